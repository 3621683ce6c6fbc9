{#
    Each lake minute bar of an equity in the universe (by alpaca_symbol), with whether it falls
    in New York's regular session: 09:30 to 16:00, or to 13:00 on an early close
    (trading_calendar). Minute bars include pre-market and after-hours trading.
#}

with

minutes as (

    select * from {{ ref('stg_alpaca__minute_bars') }}

),

assets as (

    select
        asset_id,
        alpaca_symbol
    from {{ ref('dim_assets') }}
    where alpaca_symbol is not null

),

new_york as (

    select
        date,
        is_early_close
    from {{ ref('trading_calendar') }}
    where exchange = 'XNYS'

),

final as (

    select
        assets.asset_id,
        minutes.alpaca_symbol,
        minutes.bar_time,
        minutes.session_date,
        minutes.open,
        minutes.high,
        minutes.low,
        minutes.close,
        minutes.volume,
        minutes.trade_count,
        minutes.vwap,
        minutes.feed,
        coalesce(
            minutes.local_time >= cast('09:30:00' as time)
            and minutes.local_time < case
                when new_york.is_early_close then cast('13:00:00' as time)
                else cast('16:00:00' as time)
            end,
            false
        ) as is_regular_session

    from minutes
    inner join assets
        on minutes.alpaca_symbol = assets.alpaca_symbol
    left join new_york
        on minutes.session_date = new_york.date

)

select * from final
