{#
    One bar per asset and day, from every provider's bars (crypto: CoinGecko candles or hourly
    aggregates; equities: Alpha Vantage, adjusted): what daily_bars publishes and what
    daily_features is computed from. A table, so both read it once built.
#}
{{ config(materialized='table') }}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

crypto_bars as (

    select * from {{ ref('int_crypto_bars_unioned') }}

),

equity_bars as (

    select * from {{ ref('int_equity_bars_adjusted') }}

),

crypto as (

    select
        assets.asset_id,
        crypto_bars.bar_date as date,
        crypto_bars.open,
        crypto_bars.high,
        crypto_bars.low,
        crypto_bars.close,
        crypto_bars.volume,
        crypto_bars.source,
        assets.currency,
        false as adjusted_flag,
        'none' as adjustment,
        crypto_bars.load_id

    from crypto_bars
    inner join assets
        on crypto_bars.coingecko_id = assets.coingecko_id
    where assets.asset_type = 'crypto'

),

equity as (

    select
        assets.asset_id,
        equity_bars.bar_date as date,
        equity_bars.open,
        equity_bars.high,
        equity_bars.low,
        equity_bars.close,
        equity_bars.volume,
        equity_bars.source,
        assets.currency,
        equity_bars.adjusted_flag,
        equity_bars.adjustment,
        equity_bars.load_id

    from equity_bars
    inner join assets
        on equity_bars.alpha_vantage_symbol = assets.alpha_vantage_symbol
    where assets.asset_type = 'equity'

),

unioned as (

    select * from crypto
    union all
    select * from equity

),

final as (

    select
        asset_id,
        date,
        open,
        high,
        low,
        close,
        volume,
        close * volume as dollar_volume,
        source,
        currency,
        adjusted_flag,
        adjustment,
        load_id

    from unioned

)

select * from final
