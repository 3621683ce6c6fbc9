{#- The feature columns of daily_features, in features.md's order (core set, then extended set). -#}
{% macro features_columns() -%}
    {{ return([
        'sma_20', 'sma_50', 'sma_200', 'ema_12', 'ema_26', 'rsi_14', 'macd', 'macd_signal', 'macd_hist',
        'atr_14', 'bb_upper', 'bb_middle', 'bb_lower', 'roc_10',
        'return_1d', 'return_5d', 'return_20d', 'return_60d', 'log_return_1d', 'realized_vol_20', 'rvol_20',
        'dollar_volume', 'dist_sma_20', 'dist_sma_50', 'dist_sma_200', 'sma_50_slope', 'sma_200_slope',
        'regime', 'atr_pct_14', 'bb_pct_b', 'bb_width', 'willr_14', 'cci_20', 'stoch_k', 'stoch_d', 'mfi_14',
        'obv', 'adx_14', 'donchian_high_20', 'donchian_low_20', 'high_52w', 'low_52w', 'dist_high_52w',
        'drawdown',
    ]) }}
{%- endmacro %}

{#- The recursive state carried from row to row (int_feature_states_recursed) and stored on each asset's last row. -#}
{% macro features_state_columns() -%}
    {{ return(['e12', 'e26', 'fast', 'sig', 'gain', 'loss', 'atr', 'pdm', 'mdm', 'trs', 'adx', 'obv', 'max_close']) }}
{%- endmacro %}
