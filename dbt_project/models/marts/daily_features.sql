{#
    `daily_features`: one row per (asset_id, date) of daily_bars with every feature of
    features.md. A view over the incrementally maintained int_daily_features_computed: the
    features that need the asset's history come from there, the row-local ones (distances,
    ratios, regime) are derived here from the same row, so the stored table stays narrow
    (every stored column costs write time on each full build). A feature added to the stored
    table appears here by itself (features_stored_columns); a row-local one is one line below.
#}
{#- published by its new rows only (publish_marts): a daily run adds a day, not a copy of all -#}
{{ config(materialized='view', meta={'publish_new_rows_from': 'int_daily_features_computed'}) }}

with

daily_features_computed as (

    select * from {{ ref('int_daily_features_computed') }}

),

{# every feature the stored table computes, then the row-local ones derived from the same row #}

final as (

    select
        asset_id,
        date,
        {%- for column in features_stored_columns(ref('int_daily_features_computed')) %}
        {{ column }},
        {%- endfor %}
        macd - macd_signal as macd_hist,
        sma_20 as bb_middle,
        close * volume as dollar_volume,
        close / sma_20 - 1 as dist_sma_20,
        close / sma_50 - 1 as dist_sma_50,
        close / sma_200 - 1 as dist_sma_200,
        case
            when sma_200 is null then null
            when close > sma_200 and sma_50 > sma_200 then 'bull'
            when close < sma_200 and sma_50 < sma_200 then 'bear'
            else 'neutral'
        end as regime,
        atr_14 / close as atr_pct_14,
        (close - bb_lower) / nullif(bb_upper - bb_lower, 0) as bb_pct_b,
        (bb_upper - bb_lower) / sma_20 as bb_width,
        close / high_52w - 1 as dist_high_52w

    from daily_features_computed

)

select * from final
