{#
    Daily UTC bars from CoinGecko's hourly points, for the days this build recomputes
    (int_crypto_points_scoped). Approximate by construction (open and
    close are the first and last hourly prints of the day, high and low the extremes of the
    hourly prints), hence source = 'coingecko_hourly'. Only complete days are emitted: a day
    counts once a later day has points, so today's partial day never becomes a bar.
    Volume: CoinGecko gives a rolling 24h USD volume; the day's last print divided by the
    close gives volume in coins, so close * volume is the day's dollar volume.
#}

with

market_chart as (

    select * from {{ ref('int_crypto_points_scoped') }}

),

ranked as (

    select
        coingecko_id,
        point_date,
        point_ms,
        price,
        total_volume_24h_usd,
        load_id,
        row_number() over (partition by coingecko_id, point_date order by point_ms) as rank_first,
        row_number() over (partition by coingecko_id, point_date order by point_ms desc) as rank_last,
        max(point_date) over (partition by coingecko_id) as latest_point_date

    from market_chart

),

aggregated as (

    select
        coingecko_id,
        point_date as bar_date,
        max(case when rank_first = 1 then price end) as open,
        max(price) as high,
        min(price) as low,
        max(case when rank_last = 1 then price end) as close,
        max(case when rank_last = 1 then total_volume_24h_usd end) as volume_24h_usd,
        count(*) as n_points,
        max(load_id) as load_id

    from ranked
    where point_date < latest_point_date
    group by coingecko_id, point_date

),

final as (

    select
        coingecko_id,
        bar_date,
        open,
        high,
        low,
        close,
        volume_24h_usd,
        volume_24h_usd / close as volume,
        n_points,
        'coingecko_hourly' as source,
        load_id

    from aggregated

)

select * from final
