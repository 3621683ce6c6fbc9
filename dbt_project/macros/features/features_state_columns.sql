{#- The recursive state carried from row to row (int_feature_states_recursed) and stored on each asset's last row. -#}
{% macro features_state_columns() -%}
    {{ return(['e12', 'e26', 'fast', 'sig', 'gain', 'loss', 'atr', 'pdm', 'mdm', 'trs', 'adx', 'obv', 'max_close']) }}
{%- endmacro %}

