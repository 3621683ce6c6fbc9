{#
    One row per crypto asset and day: the day's close, its change over the previous day's
    close, realized volatility over the last 7 days, volume, the market cap and rank of the
    CoinGecko markets snapshot and the day's Fear & Greed value and class (market-wide, the
    same on every asset's row). The snapshot is taken when a run happens, so a day takes the
    one taken the next day (a daily run just after the day closed), else the one taken that day.
#}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

daily_bars as (

    select * from {{ ref('daily_bars') }}

),

markets as (

    select * from {{ ref('stg_coingecko__markets') }}

),

fear_greed as (

    select * from {{ ref('stg_fear_greed__index') }}

),

crypto_bars as (

    select
        daily_bars.asset_id,
        assets.coingecko_id,
        daily_bars.date,
        daily_bars.close,
        daily_bars.volume,
        daily_bars.dollar_volume,
        lag(daily_bars.date) over (partition by daily_bars.asset_id order by daily_bars.date) as previous_date,
        lag(daily_bars.close) over (partition by daily_bars.asset_id order by daily_bars.date) as previous_close

    from daily_bars
    inner join assets
        on daily_bars.asset_id = assets.asset_id
    where assets.asset_type = 'crypto'

),

{#- a return only between consecutive days: a gap in the bars is not one day's move #}

returns as (

    select
        *,
        case
            when previous_date = cast(date - interval '1 day' as date) then close / previous_close - 1
        end as change_24h,
        case
            when previous_date = cast(date - interval '1 day' as date) then ln(close / previous_close)
        end as log_return

    from crypto_bars

),

volatility as (

    select
        *,
        stddev_samp(log_return) over (
            partition by asset_id order by date rows between 6 preceding and current row
        ) as volatility_window,
        count(log_return) over (
            partition by asset_id order by date rows between 6 preceding and current row
        ) as n_returns

    from returns

),

snapshots as (

    select
        coingecko_id,
        snapshot_date,
        market_cap,
        market_cap_rank

    from markets

),

final as (

    select
        volatility.asset_id,
        volatility.date,
        cast(volatility.close as double precision) as close,
        cast(volatility.change_24h as double precision) as change_24h,
        cast(case when volatility.n_returns = 7 then volatility.volatility_window end as double precision)
            as volatility_7d,
        cast(volatility.volume as double precision) as volume,
        cast(volatility.dollar_volume as double precision) as dollar_volume,
        cast(coalesce(next_day.market_cap, same_day.market_cap) as double precision) as market_cap,
        cast(coalesce(next_day.market_cap_rank, same_day.market_cap_rank) as integer) as market_cap_rank,
        cast(fear_greed.index_value as integer) as fear_greed_value,
        fear_greed.value_classification as fear_greed_class

    from volatility
    left join snapshots as next_day
        on
            volatility.coingecko_id = next_day.coingecko_id
            and cast(volatility.date + interval '1 day' as date) = next_day.snapshot_date
    left join snapshots as same_day
        on
            volatility.coingecko_id = same_day.coingecko_id
            and volatility.date = same_day.snapshot_date
    left join fear_greed
        on volatility.date = fear_greed.index_date

)

select * from final
