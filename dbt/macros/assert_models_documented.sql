{% macro assert_models_documented() %}
{#-
    `dbt run-operation assert_models_documented`: fails (exit code 1) naming every model without a
    description in its yml, every yml column without a description and, where the model is built in the
    target database, every built column the yml does not declare (columns declared `withheld` are not
    built, by design). Against an empty database (`MONITORLINK_DBT_BUILD_PATH=:memory:`) it checks the
    yml alone; against a copy of the restricted warehouse, the built columns too.
-#}
{%- set problems = [] -%}
{%- for node in graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | sort(attribute='name') -%}
    {%- set where = node.name ~ ' (' ~ node.original_file_path ~ ')' -%}
    {%- if not node.description | trim -%}
        {%- do problems.append(where ~ ': no description') -%}
    {%- endif -%}
    {%- for name, column in node.columns.items() if not column.description | trim -%}
        {%- do problems.append(where ~ ': column ' ~ name ~ ' has no description') -%}
    {%- endfor -%}
    {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
    {%- if relation is not none -%}
        {%- for column in adapter.get_columns_in_relation(relation) if column.name not in node.columns -%}
            {%- do problems.append(where ~ ': built column ' ~ column.name ~ ' is not in its yml') -%}
        {%- endfor -%}
    {%- endif -%}
{%- endfor -%}
{%- if problems -%}
    {{ exceptions.raise_compiler_error(problems | length ~ ' documentation gaps:\n  ' ~ problems | join('\n  ')) }}
{%- endif -%}
{{ log('every model and column is documented', info=true) }}
{% endmacro %}
