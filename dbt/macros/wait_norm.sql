{% macro wait_norm_assessment(wait_weeks='wait_weeks') %}
{#-
    The waiting-time norm's verdict on one figure (KPI wait_norm, docs/definitions.md), shared by the
    current state (fct_offer_wait_norm) and the day-by-day history (fct_offer_wait_daily) so both say the
    same thing. Needs wait_kind_intake/_treatment, contract_text and figure_quality in scope.
-#}
{%- set norm_weeks = var('wait_norm_months') ~ ' * ' ~ var('weeks_per_month') -%}
{{ wait_weeks }} is not null as has_wait_figure,
coalesce(
    wait_kind_intake = 'registration_stop' or wait_kind_treatment = 'registration_stop', false
) as has_registration_stop,
contract_text ilike '%samen14%' or contract_text ilike '%jeugdwet%' as is_youth_care_contract,
{{ wait_weeks }} > {{ norm_weeks }} as is_over_norm,
coalesce(
    {{ wait_weeks }} > {{ norm_weeks }} and figure_quality = 'concrete'
    and (contract_text ilike '%samen14%' or contract_text ilike '%jeugdwet%'),
    false
) as herstelplan_required
{%- endmacro %}
