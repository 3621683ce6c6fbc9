{#
    Pre-hook of int_daily_features_computed on incremental runs: assets recomputed in full
    (new, restated or shortened histories) lose their stored rows first; the run appends them
    again. Assets continued from their stored state keep every stored row untouched.
    A stored table written by an earlier version (features_previous_relation) first gets the
    columns it lacks, so that this run's rows can be appended (added before the delete: DuckDB
    refuses to alter a table it has deleted from in the same transaction).
#}
{% macro features_delete_recomputed(batch_relation) -%}
    {%- if is_incremental() -%}
        {%- set stored = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- for column, type in features_continued_columns().items() if column not in stored %}
        alter table {{ this }} add column {{ column }} {{ type }};
        {%- endfor %}
        delete from {{ this }}
        where asset_id in (
            select distinct asset_id
            from {{ batch_relation }}
            where is_full_history
        )
    {%- endif -%}
{%- endmacro %}
