{#
    Alpha Vantage's daily sessions that this build turns into daily bars: the rows of the assets
    int_bar_recomputes_planned lists, from the day each is recomputed from (all of an asset's
    rows when it is recomputed in full). The bar models read these instead of staging, so a
    daily run reads the days it rebuilds, not every asset's whole history.
#}

with

inputs as (

    select * from {{ ref('stg_alpha_vantage__daily') }}

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
            inputs.alpha_vantage_symbol = assets.alpha_vantage_symbol
            and assets.asset_type = 'equity'
    inner join plans
        on
            assets.asset_id = plans.asset_id
            and inputs.bar_date >= plans.recompute_from

)

select * from scoped
