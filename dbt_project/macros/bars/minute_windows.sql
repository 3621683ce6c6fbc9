{#
    Minute bars (int_equity_minute_bars) in windows of `minutes` minutes aligned to the clock
    (UTC, which is New York's on whole-hour offsets): open of the first minute, high, low,
    close of the last, summed volume and trades, volume-weighted VWAP. `session` says whether
    every minute of the window was in the regular session (`regular`), none (`extended`) or
    some (`mixed`: e.g. the 09:00 hour holds pre-market and the open).
#}
{% macro minute_windows(minutes) %}
    {%- set seconds = minutes * 60 -%}

with

minute_bars as (

    select
        *,
        to_timestamp(floor(extract(epoch from bar_time) / {{ seconds }}) * {{ seconds }}) as window_start
    from {{ ref('int_equity_minute_bars') }}

),

ranked as (

    select
        *,
        row_number() over (partition by asset_id, window_start order by bar_time) as first_rank,
        row_number() over (partition by asset_id, window_start order by bar_time desc) as last_rank
    from minute_bars

),

final as (

    select
        asset_id,
        alpaca_symbol,
        window_start,
        session_date,
        max(case when first_rank = 1 then open end) as open,
        max(high) as high,
        min(low) as low,
        max(case when last_rank = 1 then close end) as close,
        sum(volume) as volume,
        sum(trade_count) as trade_count,
        sum(vwap * volume) / nullif(sum(volume), 0) as vwap,
        count(*) as n_minutes,
        case
            when bool_and(is_regular_session) then 'regular'
            when bool_or(is_regular_session) then 'mixed'
            else 'extended'
        end as session,
        max(feed) as feed

    from ranked
    group by asset_id, alpaca_symbol, window_start, session_date

)

select * from final
{% endmacro %}
