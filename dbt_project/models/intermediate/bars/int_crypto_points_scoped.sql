{#
    CoinGecko's market-chart prints that this build turns into daily bars: the rows of the assets
    int_bar_recomputes_planned lists, from the day each is recomputed from (all of an asset's
    rows when it is recomputed in full). The bar models read these instead of staging, so a
    daily run reads the days it rebuilds, not every asset's whole history.
#}

with

inputs as (

    select * from {{ ref('stg_coingecko__market_chart') }}

),

assets as (

    select * from {{ ref('dim_assets') }}

),

plans as (

    select * from {{ ref('int_bar_recomputes_planned') }}

),

scoped as (

    select inputs.*

    from inputs
    inner join assets
        on
            inputs.coingecko_id = assets.coingecko_id
            and assets.asset_type = 'crypto'
    inner join plans
        on
            assets.asset_id = plans.asset_id
            and inputs.point_date >= plans.recompute_from

)

select * from scoped
