{#
    Pre-hook of the incremental observation models: delete the stored rows of the keys
    `changes` (int_observation_changes) lists, (asset_id, date) with a NULL asset_id for the
    market-wide rows, and every row of an asset listed `whole_asset`, so the append that follows
    writes them once. Nothing to delete on a first or full build. Two joins (`using`), each a hash
    join on its keys: a correlated `exists` with an `or` is neither on DuckDB nor on Postgres.
#}
{% macro observations_delete_recomputed(changes) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        using {{ changes }} as changes
        where changes.whole_asset and changes.asset_id = {{ this }}.asset_id;
        delete from {{ this }}
        using {{ changes }} as changes
        where not changes.whole_asset
            and coalesce(changes.asset_id, -1) = coalesce({{ this }}.asset_id, -1)
            and changes.date = {{ this }}.date
    {%- endif -%}
{%- endmacro %}
