{#
    Pre-hook of int_daily_features_computed on incremental runs: assets recomputed in full
    (new, restated or shortened histories) lose their stored rows first; the run appends them
    again. Assets continued from their stored state keep every stored row untouched.
#}
{% macro features_delete_recomputed(batch_relation) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where asset_id in (
            select distinct asset_id
            from {{ batch_relation }}
            where is_full_history
        )
    {%- endif -%}
{%- endmacro %}
