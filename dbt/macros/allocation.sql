{#- A youth's place in [0, 1): the first 32 bits of the pseudonym (HMAC hex, evenly spread) ÷ 2^32. A
    split municipality's youths go to the successor whose band holds it (int_gemeente__codes), so each
    goes to exactly one, in the successors' shares; the same youth always goes to the same one. -#}
{% macro pseudonym_fraction(pseudonym) -%}
    (try_cast('0x' || left({{ pseudonym }}, 8) as ubigint) / 4294967296.0)
{%- endmacro %}

{#- The join condition that keeps one row of int_gemeente__codes per youth: a code that is not split
    takes everyone (band 0–1); a split code's row takes the youths in its band. -#}
{% macro in_allocation_band(codes, pseudonym) -%}
    (
        coalesce({{ codes }}.allocation_share, 1) >= 1
        or (
            {{ pseudonym_fraction(pseudonym) }} >= {{ codes }}.allocation_from
            and {{ pseudonym_fraction(pseudonym) }} < {{ codes }}.allocation_to
        )
    )
{%- endmacro %}
