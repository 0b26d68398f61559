{% macro period_end(period) %}
{#-
    The last day (a date) a period string covers, or null for one it cannot read: the rules of
    monitorlink.core.contracts.period_end, so dbt (fct_source_freshness) dates data as `monitorlink
    status` and the alerts do. Read, after trimming whitespace: days `2024-07-15`, years `2024` and CBS's
    `2024JJ00`, half years `2024HJ01`, quarters `2024Q3` and CBS's `2024KW03`, months `2024-07` and CBS's
    `2024MM07`. A day or month that does not exist, or year 0000, is null, as is anything else (CBS's file
    names carry the OData version, `v4`, where others carry the period). tests/test_freshness_policy.py
    checks this against the Python rules.
-#}
{%- set text = "regexp_replace(" ~ period ~ ", '^\\s+|\\s+$', '', 'g')" -%}
{%- set year = "cast(left(" ~ text ~ ", 4) as integer)" -%}
{%- set last_digit = "cast(right(" ~ text ~ ", 1) as integer)" -%}
{%- set last_two_digits = "cast(right(" ~ text ~ ", 2) as integer)" -%}
case
    when left({{ text }}, 4) = '0000' then null
    when regexp_full_match({{ text }}, '\d{4}-\d{2}-\d{2}')
        then cast(try_strptime({{ text }}, '%Y-%m-%d') as date)
    when regexp_full_match({{ text }}, '\d{4}(JJ00)?') then make_date({{ year }}, 12, 31)
    when regexp_full_match({{ text }}, '\d{4}HJ0[12]')
        then last_day(make_date({{ year }}, 6 * {{ last_digit }}, 1))
    when regexp_full_match({{ text }}, '\d{4}(Q|KW0)[1-4]')
        then last_day(make_date({{ year }}, 3 * {{ last_digit }}, 1))
    when regexp_full_match({{ text }}, '\d{4}(-|MM)(0[1-9]|1[0-2])')
        then last_day(make_date({{ year }}, {{ last_two_digits }}, 1))
end
{%- endmacro %}
