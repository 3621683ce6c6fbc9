{#- Post-hook of int_daily_bar_states: the states of assets no longer in the universe go. -#}
{% macro daily_bar_states_forget_removed(assets) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where asset_id not in (select asset_id from {{ assets }})
    {%- endif -%}
{%- endmacro %}
