-- KPI "offers over the waiting-time norm": every current youth offer against the norm, so the share over
-- the norm has its denominator. herstelplan_required marks the offers whose provider owes a recovery plan.
{% set norm_months = var('wait_norm_months') %}
{% set weeks_per_month = var('weeks_per_month') %}

with current_youth_offers as (

    select * from {{ ref('fct_availability_current') }}
    where target_group = 'jeugd'

),

assessed as (

    select
        offer_key,
        provider_name,
        offer_name,
        location_text,
        gemeente_code,
        contract_text,
        figure_quality,
        wait_weeks,
        wait_text_intake,
        wait_text_treatment,
        round(wait_weeks / {{ weeks_per_month }}, 1) as wait_months,
        {{ norm_months }}::double as norm_months,
        round({{ norm_months }} * {{ weeks_per_month }}, 3) as norm_weeks,
        wait_weeks is not null as has_wait_figure,
        coalesce(
            wait_kind_intake = 'registration_stop' or wait_kind_treatment = 'registration_stop', false
        ) as has_registration_stop,
        contract_text ilike '%samen14%' or contract_text ilike '%jeugdwet%' as is_youth_care_contract,
        wait_weeks > {{ norm_months }} * {{ weeks_per_month }} as is_over_norm,
        measured_at

    from current_youth_offers

)

select
    *,
    coalesce(is_over_norm and figure_quality = 'concrete' and is_youth_care_contract, false)
        as herstelplan_required,
    1 as definition_version
from assessed
