-- KPI chain_lead_time: days between consecutive steps of the child-protection chain, per municipality,
-- quarter in which the step was completed, and step: cases, median and 90th percentile.
with case_milestones as (

    select * from {{ ref('int_chain__case_milestones') }}

),

steps as (

    select
        chain_steps.step_order,
        chain_steps.from_milestone,
        chain_steps.to_milestone,
        chain_steps.step
    from (
        values
        (1, 'melding', 'verzoek_onderzoek', 'melding → verzoek onderzoek'),
        (2, 'verzoek_onderzoek', 'start_onderzoek', 'verzoek → start onderzoek'),
        (3, 'start_onderzoek', 'rekest', 'onderzoek → rekest'),
        (4, 'rekest', 'uitspraak', 'rekest → uitspraak'),
        (5, 'uitspraak', 'jeugdbeschermer_toegewezen', 'uitspraak → jeugdbeschermer')
    ) as chain_steps (step_order, from_milestone, to_milestone, step)

),

lead_times as (

    select
        done.gemeente_code,
        strftime(done.occurred_at, '%Y') || 'Q' || quarter(done.occurred_at) as period_key,
        steps.step_order,
        steps.step,
        date_diff('day', started.occurred_at, done.occurred_at) as lead_days
    from steps
    inner join case_milestones as started on steps.from_milestone = started.milestone
    inner join case_milestones as done
        on steps.to_milestone = done.milestone and started.case_pseudo_id = done.case_pseudo_id

)

select
    gemeente_code,
    period_key,
    step_order,
    step,
    count(*) as cases,
    median(lead_days) as median_days,
    quantile_cont(lead_days, 0.9) as p90_days,
    count(*) filter (where lead_days < 0) as cases_out_of_order,
    1 as definition_version
from lead_times
group by all
