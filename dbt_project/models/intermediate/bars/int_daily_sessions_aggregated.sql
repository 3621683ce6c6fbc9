{#
    Per crypto asset and complete UTC day, how each trading session moved it (the contract's
    sessions by UTC hour: ASIA 00-07, EUROPE 08-13, US 14-23): the session's return (its last
    hourly close over the close before it, so the three compound to the day's close-to-close
    return) and its high-low range as a share of the day's. NULL when the day lacks an hour,
    the session's opening price is unknown, or the day's range is zero.
    Incremental like int_hourly_bars: each changed asset's days from the one holding its first
    recomputed hour are deleted (pre-hook) and rebuilt from the stored hourly bars
    (hourly_bars_recomputed, which numbers and stamps them).
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ hourly_bars_delete_recomputed(ref('int_hourly_bar_changes'), 24, 'day_index') }}"],
    )
}}

with

hourly_bars as (

    select * from {{ ref('int_hourly_bars') }}

),

changes as (

    select * from {{ ref('int_hourly_bar_changes') }}

),

recomputed_hours as (

    {{ hourly_bars_recomputed('hourly_bars', 'changes', 24, 'day_index') }}

),

days as (

    select
        *,
        row_number() over (partition by asset_id, session, day_index order by hour_index) as rank_first,
        row_number() over (partition by asset_id, session, day_index order by hour_index desc) as rank_last

    from recomputed_hours

),

sessions as (

    select
        asset_id,
        day_index,
        session,
        rn,
        computed_at,
        max(case when rank_first = 1 then open end) as session_open,
        max(case when rank_last = 1 then close end) as session_close,
        max(high) as session_high,
        min(low) as session_low,
        count(*) as n_hours

    from days
    group by asset_id, day_index, session, rn, computed_at

),

per_day as (

    select
        asset_id,
        day_index,
        rn,
        computed_at,
        sum(n_hours) as n_hours,
        max(session_high) as day_high,
        min(session_low) as day_low,
        max(case when session = 'ASIA' then session_close / nullif(session_open, 0) - 1 end)
            as asia_return,
        max(case when session = 'ASIA' then session_high - session_low end) as asia_range,
        max(case when session = 'EUROPE' then session_close / nullif(session_open, 0) - 1 end)
            as europe_return,
        max(case when session = 'EUROPE' then session_high - session_low end) as europe_range,
        max(case when session = 'US' then session_close / nullif(session_open, 0) - 1 end)
            as us_return,
        max(case when session = 'US' then session_high - session_low end) as us_range

    from sessions
    group by asset_id, day_index, rn, computed_at

),

final as (

    select
        asset_id,
        cast(cast('1970-01-01' as timestamp) + day_index * interval '1 day' as date) as date,
        cast(asia_return as double precision) as asia_return,
        cast(asia_range / nullif(day_high - day_low, 0) as double precision) as asia_range_share,
        cast(europe_return as double precision) as europe_return,
        cast(europe_range / nullif(day_high - day_low, 0) as double precision) as europe_range_share,
        cast(us_return as double precision) as us_return,
        cast(us_range / nullif(day_high - day_low, 0) as double precision) as us_range_share,
        day_index,
        rn,
        computed_at

    from per_day
    where n_hours = 24

)

select * from final
