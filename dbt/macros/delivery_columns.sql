{% macro delivery_columns() %}
{#- The platform's bookkeeping on every file-delivered row, renamed once for all staging models. -#}
        _delivery_file as delivery_file,
        _delivery_sha256 as delivery_sha256,
        _delivery_scope as delivery_scope,
        _delivery_period as delivery_period,
        _delivery_version as delivery_version,
        _source_row as source_row,
        _quality_flags as quality_flags,
        _batch_id as batch_id,
        timezone('UTC', _ingested_at) as ingested_at
{% endmacro %}
