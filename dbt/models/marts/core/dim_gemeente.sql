-- The municipalities of the region, for dashboard filters and joins.
select
    gm_code as gemeente_code,
    naam as gemeente_naam,
    odata_v3_regios_key,
    'Twente' as jeugdregio
from {{ ref('twente_gemeenten') }}
