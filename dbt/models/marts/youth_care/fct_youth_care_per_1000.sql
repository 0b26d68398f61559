-- KPI youth_care_per_1000 (definition in _youth_care__marts.yml): youths 0–17 with youth care per 1,000
-- youths 0–17, per municipality and quarter and per form of care, and for the region as a whole. The
-- region counts each youth once, also one who moved between municipalities within the quarter.
with youth_quarters as (

    select * from {{ ref('int_tmsd__youth_quarters') }}

),

municipalities as (

    select * from {{ ref('dim_gemeente') }}

),

gemeente_years as (

    select * from {{ ref('dim_gemeente_year') }}

),

observations as (

    select * from {{ ref('int_cbs__observations_current') }}

),

youths as (

    select * from youth_quarters
    where age between 0 and 17

),

forms as (

    select
        youths.*,
        form.care_form
    from youths,
        lateral (
            select unnest(list_filter([
                'totaal',
                case when has_care_without_stay then 'jeugdhulp zonder verblijf' end,
                case when has_care_with_stay then 'jeugdhulp met verblijf' end,
                case when has_child_protection then 'jeugdbescherming' end,
                case when has_youth_probation then 'jeugdreclassering' end,
                case when has_local_team_care then 'door lokaal team' end
            ], f -> f is not null)) as care_form
        ) as form

),

counted as (

    select
        gemeente_code,
        'gemeente' as level,
        period_key,
        care_form,
        count(distinct client_pseudo_id) as youths_in_care
    from forms
    group by gemeente_code, period_key, care_form

    union all

    -- the region counts a youth once, also one who moved between municipalities within the quarter
    select
        'Twente' as gemeente_code,
        'regio' as level,
        period_key,
        care_form,
        count(distinct client_pseudo_id) as youths_in_care
    from forms
    where gemeente_code in (select municipalities.gemeente_code from municipalities)
    group by period_key, care_form

),

delivered as (

    -- how many of the region's municipalities the region row sums: a quarantined or missing delivery
    -- leaves its municipality out, which must show as an incomplete row, not as a dip
    select
        period_key,
        count(distinct gemeente_code) as gemeenten_in_total,
        (select count(*) from municipalities) as gemeenten_expected
    from youths
    where gemeente_code in (select municipalities.gemeente_code from municipalities)
    group by period_key

),

population as (

    select
        gemeente_code,
        year,
        youths_0_17,
        is_twente
    from gemeente_years
    where gemeente_code != 'NL01'

),

national as (

    -- CBS counts youths with youth care over a whole year; the benchmark is therefore yearly
    select
        care.period_year as year,
        case json_extract_string(care.dimensions, '$.SoortJeugdhulp')
            when 'T001140' then 'totaal'
            when 'A048437' then 'jeugdhulp zonder verblijf'
            when 'A048438' then 'jeugdhulp met verblijf'
        end as care_form,
        round(1000.0 * care.value / nullif(nation.youths_0_17, 0), 1) as national_per_1000_year
    from observations as care
    inner join gemeente_years as nation
        on nation.gemeente_code = 'NL01' and care.period_year = nation.year
    where care.table_id = '85098NED' and care.region_code = 'NL01'

),

denominators as (

    select
        gemeente_code,
        year,
        youths_0_17
    from population

    union all

    select
        'Twente' as gemeente_code,
        year,
        sum(youths_0_17) as youths_0_17
    from population
    where is_twente
    group by year

)

select
    counted.level,
    counted.gemeente_code,
    counted.period_key,
    counted.care_form,
    counted.youths_in_care,
    denominators.youths_0_17,
    round(1000.0 * counted.youths_in_care / nullif(denominators.youths_0_17, 0), 1) as per_1000,
    national.national_per_1000_year,
    case when counted.level = 'regio' then delivered.gemeenten_in_total else 1 end as gemeenten_in_total,
    case when counted.level = 'regio' then delivered.gemeenten_expected else 1 end as gemeenten_expected,
    counted.level = 'gemeente' or delivered.gemeenten_in_total = delivered.gemeenten_expected as is_complete,
    1 as definition_version
from counted
left join denominators
    on counted.gemeente_code = denominators.gemeente_code
        and denominators.year = cast(left(counted.period_key, 4) as integer)
left join delivered on counted.period_key = delivered.period_key
left join national
    on counted.care_form = national.care_form
        and national.year = cast(left(counted.period_key, 4) as integer)
