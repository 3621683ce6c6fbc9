{#
    Four-hour bars from the hourly ones, in UTC windows starting at 00, 04, 08, 12, 16 and 20:
    open of the window's first hour, close of its last, extremes of high and low. Only complete
    windows (all four hours). `source` is `coingecko_hourly` when any hour is approximate.
    Incremental like int_hourly_bars: each changed asset's windows from the one holding its
    first recomputed hour are deleted (pre-hook) and rebuilt from the stored hourly bars
    (hourly_bars_recomputed, which numbers and stamps them).
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ hourly_bars_delete_recomputed(ref('int_hourly_bar_changes'), 4, 'window_index') }}"],
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

    {{ hourly_bars_recomputed('hourly_bars', 'changes', 4, 'window_index') }}

),

windowed as (

    select
        *,
        row_number() over (partition by asset_id, window_index order by hour_index) as rank_first,
        row_number() over (partition by asset_id, window_index order by hour_index desc) as rank_last

    from recomputed_hours

),

aggregated as (

    select
        asset_id,
        window_index,
        rn,
        computed_at,
        max(case when rank_first = 1 then open end) as open,
        max(high) as high,
        min(low) as low,
        max(case when rank_last = 1 then close end) as close,
        max(case when rank_last = 1 then volume_24h end) as volume_24h,
        max(source) as source,
        count(*) as n_hours,
        sum(n_points) as n_points,
        max(load_id) as load_id

    from windowed
    group by asset_id, window_index, rn, computed_at

),

final as (

    select
        asset_id,
        cast('1970-01-01' as timestamp) + window_index * interval '4 hours' as window_start,
        cast(open as double precision) as open,
        cast(high as double precision) as high,
        cast(low as double precision) as low,
        cast(close as double precision) as close,
        cast(volume_24h as double precision) as volume_24h,
        source,
        cast(n_points as integer) as n_points,
        load_id,
        window_index,
        rn,
        computed_at

    from aggregated
    where n_hours = 4

)

select * from final
