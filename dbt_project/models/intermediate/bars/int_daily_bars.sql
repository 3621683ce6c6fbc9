{#
    One bar per asset and day, from every provider's bars (crypto: CoinGecko candles or hourly
    aggregates; equities: Alpha Vantage, adjusted, or Alpaca, unadjusted): what daily_bars
    publishes and what daily_features is computed from. A table, so both read it once built.
    An equity with bars from several providers takes all its bars from the first of
    var('equity_bar_sources') that has any, so one asset's history never mixes adjusted and
    unadjusted prices; bar_reconciliation compares the providers day by day.
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

alpaca_bars as (

    select * from {{ ref('stg_alpaca__daily_bars') }}

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

    union all

    select
        assets.asset_id,
        alpaca_bars.bar_date as date,
        alpaca_bars.open,
        alpaca_bars.high,
        alpaca_bars.low,
        alpaca_bars.close,
        alpaca_bars.volume,
        'alpaca' as source,
        assets.currency,
        false as adjusted_flag,
        'unadjusted' as adjustment,
        alpaca_bars.load_id

    from alpaca_bars
    inner join assets
        on alpaca_bars.alpaca_symbol = assets.alpaca_symbol
    where assets.asset_type = 'equity'

),

{#- each equity's source: the first of var('equity_bar_sources') with bars for it #}

equity_sources as (

    select
        asset_id,
        min(case source
            {%- for source in var('equity_bar_sources') %}
                when '{{ source }}' then {{ loop.index }}
            {%- endfor %}
        end) as source_rank

    from equity
    group by asset_id

),

chosen_equity as (

    select equity.*

    from equity
    inner join equity_sources
        on equity.asset_id = equity_sources.asset_id
    where
        equity_sources.source_rank = case equity.source
            {%- for source in var('equity_bar_sources') %}
                when '{{ source }}' then {{ loop.index }}
            {%- endfor %}
        end

),

unioned as (

    select * from crypto
    union all
    select * from chosen_equity

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
