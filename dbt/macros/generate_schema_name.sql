{% macro generate_schema_name(custom_schema_name, node) -%}
{#- Schemas are named as configured (`restricted`, `published`), not prefixed with the target's. -#}
{{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
