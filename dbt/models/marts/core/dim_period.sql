-- Quarters from 2015 (the Jeugdwet) to 2030 with the coarser periods they roll up to. The school year is
-- that of the quarter's last day (it runs 1 August – 31 July), so Q3 belongs to the school year it opens.
with quarters as (

    select make_date(years.year::int, 3 * quarters.q::int - 2, 1) as first_day
    from range(2015, 2031) as years (year)
    cross join range(1, 5) as quarters (q)

)

select
    strftime(first_day, '%Y') || 'Q' || quarter(first_day) as period_key,
    year(first_day) as year,
    quarter(first_day) as quarter,
    strftime(first_day, '%Y') || 'H' || (case when quarter(first_day) <= 2 then 1 else 2 end) as half_year,
    first_day,
    cast(first_day + interval 3 month - interval 1 day as date) as last_day,
    case
        when month(first_day + interval 3 month - interval 1 day) >= 8
            then year(first_day) || '-' || (year(first_day) + 1)
        else (year(first_day) - 1) || '-' || year(first_day)
    end as school_year
from quarters
