{#
    One bar per crypto asset and complete UTC hour, kept incrementally: each run recomputes the
    hours int_hourly_bar_changes lists (the pre-hook deletes them first) and appends them.

    From CoinGecko's prints (int_crypto_prints_hourly: about one an hour, never on the hour),
    an honest approximate bar (source `coingecko_hourly`): open is the last print before the
    hour, close the hour's last print, high and low the extremes of the hour's prints and the
    open. An hour without a print repeats the last price (n_points = 0) so every asset has
    every hour of its span. A true hourly candle (paid plans' /ohlc/range?interval=hourly)
    replaces the approximation (source `coingecko`). An hour is complete once a later hour has
    a print, or when its candle closed. volume_24h is CoinGecko's rolling 24 h USD volume at
    the hour's last print: CoinGecko gives no per-hour volume, so volume stays NULL. Hours are
    counted since 1970-01-01 00:00 UTC (hour_index); rn counts them from the asset's first hour.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ hourly_bars_delete_recomputed(ref('int_hourly_bar_changes')) }}"],
    )
}}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

crypto_prints as (

    select * from {{ ref('int_crypto_prints_hourly') }}

),

ohlc_hourly as (

    select * from {{ ref('stg_coingecko__ohlc_hourly') }}

),

changes as (

    select * from {{ ref('int_hourly_bar_changes') }}

),

prints as (

    select
        crypto_prints.asset_id,
        crypto_prints.hour_index,
        crypto_prints.point_ms,
        crypto_prints.price,
        crypto_prints.total_volume_24h_usd,
        crypto_prints.load_id

    from crypto_prints
    inner join changes
        on crypto_prints.asset_id = changes.asset_id
    where crypto_prints.point_ms >= changes.context_from * 3600000

),

candles as (

    select
        assets.asset_id,
        cast(floor(extract(epoch from ohlc_hourly.candle_hour) / 3600.0) as bigint) as hour_index,
        ohlc_hourly.open,
        ohlc_hourly.high,
        ohlc_hourly.low,
        ohlc_hourly.close,
        ohlc_hourly.load_id

    from ohlc_hourly
    inner join assets
        on ohlc_hourly.coingecko_id = assets.coingecko_id
    inner join changes
        on assets.asset_id = changes.asset_id
    where assets.asset_type = 'crypto'

),

ranked_prints as (

    select
        *,
        row_number() over (partition by asset_id, hour_index order by point_ms desc) as rank_last,
        row_number() over (partition by asset_id, hour_index order by point_ms) as rank_first

    from prints

),

hours_printed as (

    select
        asset_id,
        hour_index,
        max(case when rank_first = 1 then price end) as first_price,
        max(case when rank_last = 1 then price end) as last_price,
        max(price) as high_price,
        min(price) as low_price,
        max(case when rank_last = 1 then total_volume_24h_usd end) as volume_24h,
        count(*) as n_points,
        max(load_id) as load_id

    from ranked_prints
    group by asset_id, hour_index

),

{#- complete hours: before the hour of the latest print, or up to the latest closed candle #}

last_printed as (

    select
        asset_id,
        max(hour_index) as hour_index

    from hours_printed
    group by asset_id

),

last_candles as (

    select
        asset_id,
        max(hour_index) as hour_index

    from candles
    group by asset_id

),

spans as (

    select
        changes.asset_id,
        changes.context_from,
        changes.changed_from,
        changes.first_hour,
        greatest(last_printed.hour_index - 1, last_candles.hour_index) as last_hour

    from changes
    left join last_printed
        on changes.asset_id = last_printed.asset_id
    left join last_candles
        on changes.asset_id = last_candles.asset_id

),

spine as (

    select
        spans.asset_id,
        spans.changed_from,
        spans.first_hour,
        cast(hour_series.hour_index as bigint) as hour_index

    from spans
    cross join lateral generate_series(spans.context_from, spans.last_hour) as hour_series (hour_index)

),

{#- each hour's last price, or the last one before it when the hour has no print #}

carried as (

    select
        spine.asset_id,
        spine.changed_from,
        spine.first_hour,
        spine.hour_index,
        hours_printed.first_price,
        hours_printed.high_price,
        hours_printed.low_price,
        hours_printed.last_price,
        hours_printed.volume_24h,
        coalesce(hours_printed.n_points, 0) as n_points,
        hours_printed.load_id,
        count(hours_printed.last_price) over (
            partition by spine.asset_id order by spine.hour_index rows between unbounded preceding and current row
        ) as price_group

    from spine
    left join hours_printed
        on
            spine.asset_id = hours_printed.asset_id
            and spine.hour_index = hours_printed.hour_index

),

filled as (

    select
        *,
        max(last_price) over (partition by asset_id, price_group) as close_price,
        max(load_id) over (partition by asset_id, price_group) as price_load_id

    from carried

),

approximated as (

    select
        *,
        coalesce(
            lag(close_price) over (partition by asset_id order by hour_index), first_price
        ) as open_price

    from filled

),

final as (

    select
        approximated.asset_id,
        cast('1970-01-01' as timestamp) + approximated.hour_index * interval '1 hour' as hour_start,
        cast(coalesce(candles.open, approximated.open_price) as double precision) as open,
        cast(coalesce(candles.high, greatest(approximated.high_price, approximated.open_price)) as double precision)
            as high,
        cast(coalesce(candles.low, least(approximated.low_price, approximated.open_price)) as double precision)
            as low,
        cast(coalesce(candles.close, approximated.close_price) as double precision) as close,
        cast(null as double precision) as volume,
        cast(approximated.volume_24h as double precision) as volume_24h,
        case when candles.asset_id is null then 'coingecko_hourly' else 'coingecko' end as source,
        case
            when mod(approximated.hour_index, 24) < 8 then 'ASIA'
            when mod(approximated.hour_index, 24) < 14 then 'EUROPE'
            else 'US'
        end as session,
        cast(approximated.n_points as integer) as n_points,
        coalesce(candles.load_id, approximated.price_load_id) as load_id,
        approximated.hour_index,
        approximated.hour_index - approximated.first_hour as rn,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as computed_at

    from approximated
    left join candles
        on
            approximated.asset_id = candles.asset_id
            and approximated.hour_index = candles.hour_index
    where
        approximated.hour_index >= approximated.changed_from
        and (approximated.close_price is not null or candles.asset_id is not null)

)

select * from final
