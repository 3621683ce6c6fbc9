{#
    Every active asset has a bar for every session of its calendar between its first and
    last bar: crypto every day, equities every NYSE session (weekends and holidays skipped),
    except the days an analyst acknowledged in seeds/known_gaps.csv (a halt, a suspension).
    Each failing row names the asset and the missing day: the gate holds back that asset only.
#}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

daily_bars as (

    select * from {{ ref('daily_bars') }}

),

trading_calendar as (

    select * from {{ ref('trading_calendar') }}

),

known_gaps as (

    select * from {{ ref('known_gaps') }}

),

spans as (

    select
        asset_id,
        min(date) as first_date,
        max(date) as last_date

    from daily_bars
    group by asset_id

),

expected as (

    select
        assets.asset_id,
        assets.symbol,
        trading_calendar.date

    from spans
    inner join assets
        on spans.asset_id = assets.asset_id
    inner join trading_calendar
        on trading_calendar.date between spans.first_date and spans.last_date
    where
        assets.is_active
        and (
            (assets.asset_type = 'crypto' and trading_calendar.is_crypto_session)
            or (assets.asset_type = 'equity' and trading_calendar.is_nyse_session)
        )

)

select
    expected.asset_id,
    expected.symbol,
    expected.date as missing_date

from expected
left join daily_bars
    on
        expected.asset_id = daily_bars.asset_id
        and expected.date = daily_bars.date
left join known_gaps
    on
        expected.symbol = known_gaps.symbol
        and expected.date between known_gaps.from_date and known_gaps.to_date
where
    daily_bars.asset_id is null
    and known_gaps.symbol is null
