{#
    Every active equity's exchange has a calendar in the trading_calendar seeds: without one its
    missing sessions could not be judged. The asset is held back until
    `python -m extract.calendars` has written its exchange's calendar.
#}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

exchanges as (

    select * from {{ ref('exchanges') }}

)

select
    assets.asset_id,
    assets.symbol,
    assets.exchange,
    'no calendar for this exchange: run python -m extract.calendars' as fix

from assets
left join exchanges
    on assets.exchange = exchanges.exchange
where
    assets.is_active
    and assets.asset_type = 'equity'
    and exchanges.exchange is null
