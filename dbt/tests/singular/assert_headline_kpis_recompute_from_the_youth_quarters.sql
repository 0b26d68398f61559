-- The headline KPIs, recomputed another way: from the intermediate models instead of the marts they are
-- summed from. Trajectories delivered for the quarter (begin stand + instroom), distinct youths 0–17 in
-- care and their rate per 1,000, youths placed out of home per municipality and type, and thuiszitters
-- must all come out the same, over the region's municipalities (is_twente). Returns each figure that
-- does not, with both values.
with headline as (

    select * from {{ ref('fct_headline_kpis') }}

),

trajectories as (

    select * from {{ ref('int_tmsd__trajectories_current') }}

),

youth_quarters as (

    select * from {{ ref('int_tmsd__youth_quarters') }}

),

gemeente_codes as (

    select * from {{ ref('int_gemeente__codes') }}

),

care_forms as (

    select * from {{ ref('stg_reference__care_forms') }}

),

gemeente_years as (

    select * from {{ ref('dim_gemeente_year') }}

),

absence as (

    select * from {{ ref('int_education__absence_current') }}

),

delivered as (

    select
        trajectories.client_pseudo_id,
        trajectories.hulpvorm,
        gemeente_codes.current_gm_code as gemeente_code
    from trajectories
    inner join gemeente_codes
        on
            trajectories.gemeente_code = gemeente_codes.gm_code
            and {{ in_allocation_band('gemeente_codes', 'trajectories.client_pseudo_id') }}
    inner join headline on trajectories.delivery_period = headline.period_key
    where gemeente_codes.is_twente

),

recomputed as (

    select
        'trajectories delivered (begin stand + instroom)' as figure,
        (select count(*) from delivered) as expected,
        headline.begin_stand + headline.instroom as found
    from headline

    union all

    select
        'youths 0–17 in care',
        (
            select count(distinct youth_quarters.client_pseudo_id) from youth_quarters
            where
                youth_quarters.period_key = headline.period_key and youth_quarters.age between 0 and 17
                and youth_quarters.gemeente_code in (select twente.gm_code from gemeente_codes as twente where twente.is_twente)
        ),
        headline.youths_in_care
    from headline

    union all

    select
        'youths in care per 1,000 (×10)',
        round(10 * round(1000.0 * headline.youths_in_care / (
            select sum(gemeente_years.youths_0_17) from gemeente_years
            where gemeente_years.is_twente and gemeente_years.year = cast(left(headline.period_key, 4) as integer)
        ), 1)),
        round(10 * headline.per_1000)
    from headline

    union all

    select
        'youths placed out of home (per municipality and type)',
        (
            select count(distinct (delivered.gemeente_code, care_forms.cbs_subcategory, delivered.client_pseudo_id))
            from delivered
            inner join care_forms on delivered.hulpvorm = care_forms.hulpvorm
            where care_forms.is_out_of_home
        ),
        headline.youths_placed_out_of_home
    from headline

    union all

    select
        'thuiszitters',
        (
            select sum(absence.pupils) from absence
            inner join gemeente_codes on absence.gemeente_code = gemeente_codes.gm_code
            where
                absence.delivery_period = headline.school_period_key and absence.absence_kind != 'vrijstelling'
                and gemeente_codes.is_twente
        ),
        headline.thuiszitters
    from headline

)

select
    figure,
    expected,
    found
from recomputed
where expected is distinct from found
