{#
    Four-hour bars from the hourly ones, in UTC windows starting at 00, 04, 08, 12, 16 and 20:
    open of the window's first hour, close of its last, extremes of high and low. Only complete
    windows (all four hours). `source` is `coingecko_hourly` when any hour is approximate.
#}

with

hourly_bars as (

    select * from {{ ref('int_hourly_bars') }}

),

windowed as (

    select
        *,
        cast(floor(hour_index / 4.0) as bigint) as window_index,
        row_number() over (partition by asset_id, cast(floor(hour_index / 4.0) as bigint) order by hour_index)
            as rank_first,
        row_number() over (
            partition by asset_id, cast(floor(hour_index / 4.0) as bigint) order by hour_index desc
        ) as rank_last

    from hourly_bars

),

aggregated as (

    select
        asset_id,
        window_index,
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
    group by asset_id, window_index

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
        load_id

    from aggregated
    where n_hours = 4

)

select * from final
