{#
    CoinGecko's market-chart prints of the universe's crypto assets, each with the hour it falls
    in (hour_index: hours since 1970-01-01 00:00 UTC). The one place prints meet the universe
    and get their hour: int_hourly_bar_changes (which hours to recompute) and int_hourly_bars
    (the bars) both read it, so they cannot disagree on an asset or an hour. A view, stored
    nowhere: each reader filters it as it did its own join (int_hourly_bars to the changed
    assets' hours).
#}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

market_chart as (

    select * from {{ ref('stg_coingecko__market_chart') }}

),

final as (

    select
        assets.asset_id,
        cast(floor(market_chart.point_ms / 3600000.0) as bigint) as hour_index,
        market_chart.point_ms,
        market_chart.price,
        market_chart.total_volume_24h_usd,
        market_chart.load_id

    from market_chart
    inner join assets
        on market_chart.coingecko_id = assets.coingecko_id
    where assets.asset_type = 'crypto'

)

select * from final
