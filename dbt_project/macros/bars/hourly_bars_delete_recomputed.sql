{#
    Pre-hook of the incremental int_hourly_bars: delete each changed asset's stored hours from
    the hour int_hourly_bar_changes says it recomputes, so the append that follows writes them
    once. Nothing to delete on a first or full build.
#}
{% macro hourly_bars_delete_recomputed(changes) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where exists (
            select 1 from {{ changes }} as changes
            where changes.asset_id = {{ this }}.asset_id and {{ this }}.hour_index >= changes.changed_from
        )
    {%- endif -%}
{%- endmacro %}
