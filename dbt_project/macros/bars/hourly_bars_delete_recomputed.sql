{#
    Pre-hook of the incremental models kept from hourly bars (int_hourly_bars and its 4-hour
    and daily roll-ups): delete each changed asset's stored rows from the period (of `hours`
    hours, numbered by `index_column` since 1970-01-01 UTC) its first recomputed hour falls in,
    so the append that follows writes them once. Nothing to delete on a first or full build.
    A join, as in bars_delete_recomputed.
#}
{% macro hourly_bars_delete_recomputed(changes, hours=1, index_column='hour_index') -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        using {{ changes }} as changes
        where changes.asset_id = {{ this }}.asset_id
            and {{ this }}.{{ index_column }} >= floor(changes.changed_from / {{ hours }}.0)
    {%- endif -%}
{%- endmacro %}
