{#
    Every active asset has a bar for every session of its own exchange's calendar between its
    first and last bar (crypto every day; an equity on its exchange's sessions: a Shanghai stock
    is not expected on Chinese New Year), except the days an analyst acknowledged in
    seeds/known_gaps.csv (a halt, a suspension). Days beyond the calendar's known span are not
    judged (is_session NULL).
    Each failing row names the asset and the missing day: the gate holds back that asset only.
#}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

daily_bars as (

    {#- on a daily run, the changed assets from the bars before their changes (change_scope) #}
    select scoped.* from {{ change_scoped_rows(ref('daily_bars'), 'daily_bars') or ref('daily_bars') }} as scoped

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
        on
            coalesce(assets.exchange, 'CRYPTO') = trading_calendar.exchange
            and trading_calendar.date between spans.first_date and spans.last_date
    where
        assets.is_active
        and trading_calendar.is_session

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
