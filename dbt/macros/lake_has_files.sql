{% macro lake_has_files(pattern) %}
{#-
    Whether any file matches `pattern` (a glob) when the model is compiled, so a model can read a lake
    zone that may still be empty (DuckDB's read_parquet fails on a glob without files) and fall back to
    an empty relation of the zone's columns instead. While dbt parses (no connection), it says true, so
    the model's `source()` is always registered in the DAG.
-#}
{%- if not execute -%}
    {{ return(true) }}
{%- endif -%}
{%- set found = run_query("select count(*) from glob('" ~ pattern | replace("'", "''") ~ "')") -%}
{{ return(found.columns[0].values()[0] > 0) }}
{% endmacro %}
