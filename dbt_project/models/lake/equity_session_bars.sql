{#
    Regular-session daily bars built from the lake's minute bars (09:30 to the close, New York),
    one row per equity and session, beside Alpaca's own daily bar of the same feed: the close
    should agree within var('reconciliation_close_tolerance') for the feed (a warn test names
    asset and day when it does not); the volume ratio is below 1 by the pre-market and
    after-hours volume, which Alpaca's daily bar counts and the regular session does not.
#}

with

minute_bars as (

    select * from {{ ref('int_equity_minute_bars') }}
    where is_regular_session

),

daily as (

    select * from {{ ref('stg_alpaca__daily_bars') }}

),

ranked as (

    select
        *,
        row_number() over (partition by asset_id, session_date order by bar_time) as first_rank,
        row_number() over (partition by asset_id, session_date order by bar_time desc) as last_rank
    from minute_bars

),

sessions as (

    select
        asset_id,
        alpaca_symbol,
        session_date as date,
        max(case when first_rank = 1 then open end) as open,
        max(high) as high,
        min(low) as low,
        max(case when last_rank = 1 then close end) as close,
        sum(volume) as volume,
        sum(trade_count) as trade_count,
        sum(vwap * volume) / nullif(sum(volume), 0) as vwap,
        count(*) as n_minutes,
        min(bar_time) as first_minute,
        max(bar_time) as last_minute,
        max(feed) as feed

    from ranked
    group by asset_id, alpaca_symbol, session_date

),

final as (

    select
        sessions.asset_id,
        sessions.alpaca_symbol,
        sessions.date,
        sessions.open,
        sessions.high,
        sessions.low,
        sessions.close,
        sessions.volume,
        sessions.trade_count,
        sessions.vwap,
        sessions.n_minutes,
        sessions.first_minute,
        sessions.last_minute,
        sessions.feed,
        daily.close as daily_close,
        daily.volume as daily_volume,
        sessions.close / nullif(daily.close, 0) - 1 as close_difference_ratio,
        sessions.volume / nullif(daily.volume, 0) as volume_ratio,
        case
            when daily.close is null then null
            {%- for feed, tolerance in var('reconciliation_close_tolerance').items() %}
                when sessions.feed = '{{ feed }}'
                    then abs(sessions.close / nullif(daily.close, 0) - 1) <= {{ tolerance }}
            {%- endfor %}
        end as within_tolerance

    from sessions
    left join daily
        on
            sessions.alpaca_symbol = daily.alpaca_symbol
            and sessions.date = daily.bar_date
            and sessions.feed = daily.feed

)

select * from final
