{#
    Pre-hook of the incremental observation models: delete the stored rows of the keys
    `changes` (int_observation_changes) lists, (asset_id, date) with a NULL asset_id for the
    market-wide rows, and every row of an asset listed `whole_asset`, so the append that follows
    writes them once. Nothing to delete on a first or full build.
#}
{% macro observations_delete_recomputed(changes) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where exists (
            select 1 from {{ changes }} as changes
            where
                (changes.whole_asset and changes.asset_id = {{ this }}.asset_id)
                or (
                    not changes.whole_asset
                    and coalesce(changes.asset_id, -1) = coalesce({{ this }}.asset_id, -1)
                    and changes.date = {{ this }}.date
                )
        )
    {%- endif -%}
{%- endmacro %}
