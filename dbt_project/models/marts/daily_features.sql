{#
    `daily_features`: one row per (asset_id, date) of daily_bars with every feature of
    features.md. A view over the incrementally maintained int_daily_features_computed: the
    features that need the asset's history come from there, the row-local ones (distances,
    ratios, regime) are derived here from the same row, so the stored table stays narrow
    (every stored column costs write time on each full build).
#}
{#- published by its new rows only (publish_marts): a daily run adds a day, not a copy of all -#}
{{ config(materialized='view', meta={'publish_new_rows_from': 'int_daily_features_computed'}) }}

with

daily_features_computed as (

    select * from {{ ref('int_daily_features_computed') }}

),

final as (

    select
        asset_id,
        date,
        sma_20,
        sma_50,
        sma_200,
        ema_12,
        ema_26,
        rsi_14,
        macd,
        macd_signal,
        macd - macd_signal as macd_hist,
        atr_14,
        bb_upper,
        sma_20 as bb_middle,
        bb_lower,
        roc_10,
        return_1d,
        return_5d,
        return_20d,
        return_60d,
        log_return_1d,
        realized_vol_20,
        rvol_20,
        close * volume as dollar_volume,
        close / sma_20 - 1 as dist_sma_20,
        close / sma_50 - 1 as dist_sma_50,
        close / sma_200 - 1 as dist_sma_200,
        sma_50_slope,
        sma_200_slope,
        case
            when sma_200 is null then null
            when close > sma_200 and sma_50 > sma_200 then 'bull'
            when close < sma_200 and sma_50 < sma_200 then 'bear'
            else 'neutral'
        end as regime,
        atr_14 / close as atr_pct_14,
        (close - bb_lower) / nullif(bb_upper - bb_lower, 0) as bb_pct_b,
        (bb_upper - bb_lower) / sma_20 as bb_width,
        willr_14,
        cci_20,
        stoch_k,
        stoch_d,
        mfi_14,
        obv,
        adx_14,
        donchian_high_20,
        donchian_low_20,
        high_52w,
        low_52w,
        close / high_52w - 1 as dist_high_52w,
        drawdown

    from daily_features_computed

)

select * from final
