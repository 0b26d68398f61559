{#-
    Disclosure control (docs/disclosure.md). Every column of every model in the `published` schema
    declares its class in the model's yml, `config.meta.disclosure`:

      dimension     a key of the cell (municipality, period, category)
      safe          no person count, or a public figure; `reason` says why
      person_count  a number of persons (youths, pupils, cases); `part_of` names the count it is a subset of
      derived       computed from person counts (rate, share, median, average); `from` names them
      withheld      in the mart, never published (only for models that go through `suppress`)

    `suppress(relation)` builds a published model from those declarations alone, so a reviewer reads the
    yml and nothing else. `assert_disclosure_declared()` (a post-hook on every model) fails the build for
    a published model with a column that declares no class.
-#}

{% macro disclosure_classes() %}
    {{ return(['dimension', 'safe', 'person_count', 'derived', 'withheld']) }}
{% endmacro %}


{% macro disclosure_of(column) %}
{#- The column's disclosure meta (from `config.meta` or, for older yml, `meta`). -#}
    {%- set meta = {} -%}
    {%- do meta.update(column.get('meta') or {}) -%}
    {%- do meta.update((column.get('config') or {}).get('meta') or {}) -%}
    {{ return(meta) }}
{% endmacro %}


{% macro disclosure_spec() %}
{#- The current model's declarations, checked: every class known, every reference resolvable. -#}
    {%- set node = model -%}
    {%- if model.resource_type == 'unit_test' -%}
        {{ exceptions.raise_compiler_error('unit test ' ~ model.name ~ ': a dbt unit test cannot see the disclosure declarations of the model it tests; test published models in tests/integration/test_disclosure_rules.py') }}
    {%- endif -%}
    {%- set where = 'model ' ~ node.name ~ ' (' ~ node.original_file_path | replace('models/', 'dbt/models/') ~ ' and its yml)' -%}
    {%- set spec = {'columns': [], 'counts': [], 'dims': [], 'classes': {}, 'meta': {}} -%}
    {%- for name, column in node.columns.items() -%}
        {%- set meta = disclosure_of(column) -%}
        {%- if meta.get('disclosure') not in disclosure_classes() -%}
            {{ exceptions.raise_compiler_error(where ~ ': column ' ~ name ~ ' declares no disclosure class (config.meta.disclosure: ' ~ disclosure_classes() | join(' | ') ~ ')') }}
        {%- endif -%}
        {%- do spec.columns.append(name) -%}
        {%- do spec.classes.update({name: meta.disclosure}) -%}
        {%- do spec.meta.update({name: meta}) -%}
        {%- if meta.disclosure == 'person_count' -%}{%- do spec.counts.append(name) -%}{%- endif -%}
        {%- if meta.disclosure == 'dimension' -%}{%- do spec.dims.append(name) -%}{%- endif -%}
    {%- endfor -%}
    {%- for name in spec.columns -%}
        {%- set meta = spec.meta[name] -%}
        {%- if meta.disclosure == 'derived' and (not meta.get('from') or meta['from'] | reject('in', spec.counts) | list) -%}
            {{ exceptions.raise_compiler_error(where ~ ': derived column ' ~ name ~ ' must name the person counts it is computed from (from: [...]), each declared person_count') }}
        {%- endif -%}
        {%- if meta.get('part_of') and meta.part_of not in spec.counts -%}
            {{ exceptions.raise_compiler_error(where ~ ': ' ~ name ~ ' is part_of ' ~ meta.part_of ~ ', which is not a person_count of this model') }}
        {%- endif -%}
        {%- if meta.disclosure == 'safe' and not meta.get('reason') -%}
            {{ exceptions.raise_compiler_error(where ~ ': safe column ' ~ name ~ ' must say why it is safe (reason: ...)') }}
        {%- endif -%}
    {%- endfor -%}
    {%- if 'is_suppressed' not in spec.columns -%}
        {{ exceptions.raise_compiler_error(where ~ ': declare is_suppressed (safe) — every suppressed model says which rows hide something') }}
    {%- endif -%}
    {%- set groups = node.config.get('meta', {}).get('suppression_groups', []) -%}
    {%- for group in groups -%}
        {%- for column in group.by -%}
            {%- if spec.classes.get(column) != 'dimension' -%}
                {{ exceptions.raise_compiler_error(where ~ ': suppression group by ' ~ group.by ~ ': ' ~ column ~ ' is not a dimension column') }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- do spec.update({'groups': groups, 'linked': node.config.get('meta', {}).get('linked_counts', [])}) -%}
    {{ return(spec) }}
{% endmacro %}


{% macro suppress(relation, rounds=4) %}
{#-
    Publish `relation` under the rules of docs/disclosure.md (numbered as there), driven only by this
    model's declarations:

    1. primary: a person count of 1 up to the threshold is hidden (0 is shown: it discloses no one);
    2. a count that arrives hidden (NULL, as TMSD and DUO deliver cells under 10) stays hidden;
    3. derived values are hidden when any count they are computed from is hidden;
    4. complement in a row: a count that is `part_of` a total is hidden when the total is hidden or when
       the rest (total − count) is 1 up to the threshold;
    5. complement against a group's total row (`total_where`), the same way;
    6. secondary, across rows: within each `suppression_groups` partition (cells that add up to a
       published or knowable total), a lone hidden cell takes the smallest visible one with it;
    7./8. secondary, within a row: of `linked_counts` (begin + in − out = end; counts that add up to one
       published elsewhere) never exactly one hidden.

    Rules 4–8 feed each other (hiding a cell for one group can leave a lone cell in another), so they are
    applied `rounds` times; the publish gate (monitorlink.warehouse.disclosure) refuses the file if that was not
    enough, so too few rounds can fail a build but never leak a cell.
-#}
{%- if not execute -%}
select * from {{ relation }}
{%- else -%}
{%- set spec = disclosure_spec() -%}
{%- set threshold = var('suppression_threshold') -%}
{%- set inputs = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
{%- for name in inputs if name not in spec.columns -%}
    {{ exceptions.raise_compiler_error('model ' ~ model.name ~ ': column ' ~ name ~ ' of ' ~ relation ~ ' is not declared in its yml; give it a disclosure class (withheld keeps it out)') }}
{%- endfor -%}
with step_0 as materialized (

    select
        *
        {%- for count in spec.counts %},
        {{ count }} is null or {{ count }} between 1 and {{ threshold }} - 1 as "_hide__{{ count }}"
        {%- endfor %}
    from {{ relation }}

)
{%- set state = {'n': 0} -%}
{%- for round in range(rounds) -%}
    {%- for count in spec.counts -%}
        {%- set total = spec.meta[count].get('part_of') -%}
        {%- if total %},
{{ _suppress_step(state) }} as materialized (

    -- rule 4: {{ count }} is part of {{ total }}
    select * replace (
        "_hide__{{ count }}" or "_hide__{{ total }}" or ({{ total }} - {{ count }}) between 1 and {{ threshold }} - 1
            as "_hide__{{ count }}"
    )
    from step_{{ state.n - 1 }}

)
        {%- endif -%}
        {%- for group in spec.groups -%}
            {%- if group.get('total_where') %},
{{ _suppress_step(state) }} as materialized (

    -- rule 5: {{ count }} against the total row ({{ group.total_where }}) of its group by {{ group.by | join(', ') }}
    select * replace (
        "_hide__{{ count }}" or (not coalesce({{ group.total_where }}, false) and (
            coalesce(bool_or("_hide__{{ count }}") filter (where {{ group.total_where }}) over by_group, false)
            or (max({{ count }}) filter (where {{ group.total_where }}) over by_group) - {{ count }}
                between 1 and {{ threshold }} - 1
        )) as "_hide__{{ count }}"
    )
    from step_{{ state.n - 1 }}
    window by_group as (partition by {{ group.by | join(', ') }})

)
            {%- endif %},
{{ _suppress_step(state) }} as materialized (

    -- rule 6: {{ count }}, a lone hidden cell of a group by {{ group.by | join(', ') }} takes another
    select * replace (
        "_hide__{{ count }}" or (
            (count(*) filter (where "_hide__{{ count }}") over by_group = 1
                or count(*) filter (where "_hide__{{ count }}" and {{ count }} is not null) over by_group = 1)
            and row_number() over (
                partition by {{ group.by | join(', ') }}
                order by "_hide__{{ count }}",
                    {% if group.get('total_where') %}coalesce({{ group.total_where }}, false), {% endif -%}
                    {{ count }} = 0, {{ count }}{% for dim in spec.dims %}, {{ dim }}{% endfor %}
            ) = 1
        ) as "_hide__{{ count }}"
    )
    from step_{{ state.n - 1 }}
    window by_group as (partition by {{ group.by | join(', ') }})

)
        {%- endfor -%}
    {%- endfor -%}
    {%- for linked in spec.linked %},
{{ _suppress_step(state) }} as materialized (

    -- rules 7 and 8: {{ linked | join(', ') }} determine each other within a row
    select * replace (
        {%- for count in linked %}
        "_hide__{{ count }}" or (
            {{ _hidden_in(linked) }} = 1
            and {{ _first_visible(linked, count) }}
        ) as "_hide__{{ count }}"{{ ',' if not loop.last }}
        {%- endfor %}
    )
    from step_{{ state.n - 1 }}

)
    {%- endfor -%}
{%- endfor %}

select
    {%- for name in spec.columns if spec.classes[name] != 'withheld' %}
    {% if name == 'is_suppressed' -%}
        {%- for count in spec.counts %}"_hide__{{ count }}"{{ ' or ' if not loop.last }}{% endfor %} as is_suppressed
    {%- elif spec.classes[name] == 'person_count' -%}
        case when "_hide__{{ name }}" then null else {{ name }} end as {{ name }}
    {%- elif spec.classes[name] == 'derived' -%}
        case when {% for count in spec.meta[name]['from'] %}"_hide__{{ count }}"{{ ' or ' if not loop.last }}{% endfor %}
            then null else {{ name }} end as {{ name }}
    {%- else -%}
        {{ name }}
    {%- endif -%}{{ ',' if not loop.last }}
    {%- endfor %}
from step_{{ state.n }}
{%- endif -%}
{% endmacro %}


{% macro _suppress_step(state) -%}
{#- The name of the next CTE in the chain (step_1, step_2, …). -#}
{%- do state.update({'n': state.n + 1}) -%}
step_{{ state.n }}
{%- endmacro %}


{% macro _hidden_in(counts) -%}
({% for count in counts %}"_hide__{{ count }}"::int{{ ' + ' if not loop.last }}{% endfor %})
{%- endmacro %}


{% macro _first_visible(counts, count) -%}
{#- `count` is the visible one to hide with a lone hidden one: the smallest non-zero (a zero protects
    nothing when it is the only other), ties and all-zero rows broken by the order of `counts`. -#}
{%- set visible = [] -%}
{%- for other in counts -%}
    {%- do visible.append('case when not "_hide__' ~ other ~ '" then coalesce(nullif(' ~ other ~ ', 0), 2147483647) end') -%}
{%- endfor -%}
not "_hide__{{ count }}"
and coalesce(nullif({{ count }}, 0), 2147483647) = least({{ visible | join(', ') }})
{%- for other in counts[:counts.index(count)] %}
and not (not "_hide__{{ other }}" and coalesce(nullif({{ other }}, 0), 2147483647) = least({{ visible | join(', ') }}))
{%- endfor -%}
{%- endmacro %}


{% macro assert_disclosure_declared() %}
{#-
    Post-hook on every model: a model in the `published` schema whose table has a column without a
    disclosure class (or a yml column that is not in the table) fails the build, naming both.
-#}
{%- if execute and model.config.get('schema') == 'published' -%}
    {%- set declared = {} -%}
    {%- for name, column in model.columns.items() -%}
        {%- do declared.update({name: disclosure_of(column).get('disclosure')}) -%}
    {%- endfor -%}
    {%- set built = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- for name in built if declared.get(name) not in disclosure_classes() or declared.get(name) == 'withheld' -%}
        {{ exceptions.raise_compiler_error('published model ' ~ model.name ~ ': column ' ~ name ~ ' declares no disclosure class in its yml (config.meta.disclosure)') }}
    {%- endfor -%}
    {%- for name, kind in declared.items() if name not in built and kind != 'withheld' -%}
        {{ exceptions.raise_compiler_error('published model ' ~ model.name ~ ': yml declares column ' ~ name ~ ', which the table does not have') }}
    {%- endfor -%}
{%- endif -%}
select 1
{% endmacro %}
