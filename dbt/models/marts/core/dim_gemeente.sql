-- The municipalities of the region, for dashboard filters and joins.
with municipalities as (

    select * from {{ ref('twente_gemeenten') }}

)

select
    gm_code as gemeente_code,
    naam as gemeente_naam,
    odata_v3_regios_key,
    'Twente' as jeugdregio
from municipalities
