-- KPI "offers over the waiting-time norm": every youth offer of the current state (the newest full list,
-- plus newer direct events) against the norm, so the share over the norm has its denominator.
-- herstelplan_required marks the offers whose provider owes a recovery plan.
{% set norm_months = var('wait_norm_months') %}
{% set weeks_per_month = var('weeks_per_month') %}

with availability_current as (

    select * from {{ ref('fct_availability_current') }}

)

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
    {{ wait_norm_assessment() }},
    measured_at,
    list_published_at,
    1 as definition_version
from availability_current
where target_group = 'jeugd'
