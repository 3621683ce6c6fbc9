{#
    Per-asset freshness: every active asset's last bar is within its calendar's expected
    lag of today: `freshness_lag_crypto_days` complete UTC days for crypto,
    `freshness_lag_equity_sessions` sessions of its own exchange for equities. Warns: stale data
    is still the last good data.
#}
{{ config(severity='warn') }}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

daily_bars as (

    select * from {{ ref('daily_bars') }}

),

trading_calendar as (

    select * from {{ ref('trading_calendar') }}

),

recent_sessions as (

    select
        exchange,
        date,
        row_number() over (partition by exchange order by date desc) as sessions_ago

    from trading_calendar
    where
        is_session
        and exchange <> 'CRYPTO'
        and date < current_date

),

expected as (

    select
        'CRYPTO' as exchange,
        cast(current_date - {{ var('freshness_lag_crypto_days') }} as date) as oldest_fresh_date
    union all
    select
        exchange,
        date as oldest_fresh_date
    from recent_sessions
    where sessions_ago = {{ var('freshness_lag_equity_sessions') }}

),

latest as (

    select
        asset_id,
        max(date) as last_date

    from daily_bars
    group by asset_id

)

select
    assets.asset_id,
    assets.symbol,
    latest.last_date,
    expected.oldest_fresh_date

from assets
inner join expected
    on coalesce(assets.exchange, 'CRYPTO') = expected.exchange
left join latest
    on assets.asset_id = latest.asset_id
where
    assets.is_active
    and (latest.last_date is null or latest.last_date < expected.oldest_fresh_date)
