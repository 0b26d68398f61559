-- Published: in-, door- en uitstroom, small counts hidden; because the four counts balance, a second
-- count of the same municipality-quarter is hidden whenever one is (macro suppress over the cells).
with suppressed as (

    {{ suppress(ref('int_trajectory_flow__cells'), 'value', [], ['gemeente_code', 'period_key']) }}

)

select
    gemeente_code,
    period_key,
    max(value) filter (where measure = 'begin_stand') as begin_stand,
    max(value) filter (where measure = 'instroom') as instroom,
    max(value) filter (where measure = 'uitstroom') as uitstroom,
    max(value) filter (where measure = 'eind_stand') as eind_stand,
    case when bool_or(is_suppressed and measure = 'uitstroom') then null
        else any_value(avg_duration_days_ended) end as avg_duration_days_ended,
    bool_or(is_suppressed) as is_suppressed,
    any_value(definition_version) as definition_version
from suppressed
group by gemeente_code, period_key
