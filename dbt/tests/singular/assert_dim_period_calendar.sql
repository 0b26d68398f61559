-- dim_period: 64 quarters 2015–2030; Q2 belongs to the school year that ends with it, Q3 to the one it
-- opens; half-years split after Q2. Returns the rows (or the count) that break this.
with expected as (
    select * from (values
        ('2023Q2', '2022-2023', '2023H1', date '2023-06-30'),
        ('2023Q3', '2023-2024', '2023H2', date '2023-09-30'),
        ('2024Q1', '2023-2024', '2024H1', date '2024-03-31'),
        ('2024Q4', '2024-2025', '2024H2', date '2024-12-31')
    ) as t(period_key, school_year, half_year, last_day)
)

select expected.period_key, 'wrong calendar' as problem
from expected
left join {{ ref('dim_period') }} as period using (period_key)
where period.school_year is distinct from expected.school_year
   or period.half_year is distinct from expected.half_year
   or period.last_day is distinct from expected.last_day

union all

select 'all', 'expected 64 quarters, found ' || count(*)
from {{ ref('dim_period') }}
having count(*) != 64
