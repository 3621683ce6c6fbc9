{#
    One bar per asset and day from every provider's bars (crypto: CoinGecko candles or hourly
    aggregates; equities: Alpha Vantage, adjusted, or Alpaca, unadjusted): what daily_bars
    publishes and what daily_features is computed from. Kept incrementally: each build
    recomputes the days int_bar_recomputes_planned lists (its pre-hook deletes them first) from
    the inputs of those days only, and appends them; `rn` numbers an asset's bars from its
    first, `computed_at` says which build wrote a row (daily_bars publishes the rows written
    since its last publish). An equity takes all its bars from the source the plan names (the
    first of var('equity_bar_sources') with any bar for it), so one asset's history never mixes
    adjusted and unadjusted prices; bar_reconciliation compares the providers day by day.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ bars_delete_recomputed(ref('int_bar_recomputes_planned')) }}"],
        post_hook=["{{ analyze_relation(this) }}"],
        indexes=lookup_indexes(['asset_id', 'date']),
        on_schema_change='append_new_columns',
    )
}}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

plans as (

    select * from {{ ref('int_bar_recomputes_planned') }}

),

crypto_bars as (

    select * from {{ ref('int_crypto_bars_unioned') }}

),

equity_bars as (

    select * from {{ ref('int_equity_bars_adjusted') }}

),

alpaca_bars as (

    select * from {{ ref('int_alpaca_sessions_scoped') }}

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

{#- each equity's bars from the one source its plan names #}

chosen_equity as (

    select equity.*

    from equity
    inner join plans
        on
            equity.asset_id = plans.asset_id
            and equity.source = plans.source

),

unioned as (

    select * from crypto
    union all
    select * from chosen_equity

),

final as (

    select
        unioned.asset_id,
        unioned.date,
        unioned.open,
        unioned.high,
        unioned.low,
        unioned.close,
        unioned.volume,
        unioned.close * unioned.volume as dollar_volume,
        unioned.source,
        unioned.currency,
        unioned.adjusted_flag,
        unioned.adjustment,
        unioned.load_id,
        plans.kept_bars + row_number() over (partition by unioned.asset_id order by unioned.date) - 1 as rn,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as computed_at

    from unioned
    inner join plans
        on
            unioned.asset_id = plans.asset_id
            and unioned.date >= plans.recompute_from

)

select * from final
