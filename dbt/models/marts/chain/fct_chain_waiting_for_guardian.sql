-- KPI waiting_for_guardian: cases with a ruling but no guardian (jeugdbeschermer) assigned yet at the end
-- of each quarter, per municipality, and how long they had been waiting.
with case_milestones as (

    select * from {{ ref('int_chain__case_milestones') }}

),

periods as (

    select * from {{ ref('dim_period') }}

),

cases as (

    select
        ruling.case_pseudo_id,
        ruling.gemeente_code,
        ruling.occurred_at as ruled_at,
        assigned.occurred_at as assigned_at,
        ended.occurred_at as ended_at
    from case_milestones as ruling
    left join case_milestones as assigned
        on ruling.case_pseudo_id = assigned.case_pseudo_id and assigned.milestone = 'jeugdbeschermer_toegewezen'
    left join case_milestones as ended
        on ruling.case_pseudo_id = ended.case_pseudo_id and ended.milestone = 'einde_maatregel'
    where ruling.milestone = 'uitspraak'

),

waiting as (

    select
        cases.gemeente_code,
        period.period_key,
        date_diff('day', cases.ruled_at::date, period.last_day) as days_waiting
    from cases
    inner join periods as period
        on
            cases.ruled_at::date <= period.last_day
            and (cases.assigned_at is null or cases.assigned_at::date > period.last_day)
            and (cases.ended_at is null or cases.ended_at::date > period.last_day)
    where period.last_day <= (select max(case_milestones.occurred_at)::date from case_milestones)

)

select
    gemeente_code,
    period_key,
    count(*) as cases_waiting,
    count(*) filter (where days_waiting > 42) as cases_waiting_over_6_weeks,
    max(days_waiting) as longest_wait_days,
    1 as definition_version
from waiting
group by gemeente_code, period_key
