{#
    A crypto daily bar built from hourly prints closes where the day's last hourly bar (23:00
    UTC) closes: both are the day's last print. Each failing row names the asset and day.
#}

with

daily_bars as (

    select * from {{ ref('daily_bars') }}

),

hourly_bars as (

    select * from {{ ref('hourly_bars') }}

),

last_hours as (

    select
        asset_id,
        cast(hour_start as date) as date,
        close

    from hourly_bars
    where
        extract(hour from hour_start) = 23
        and source = 'coingecko_hourly'

),

final as (

    select
        daily_bars.asset_id,
        daily_bars.date,
        daily_bars.close as daily_close,
        last_hours.close as last_hourly_close

    from daily_bars
    inner join last_hours
        on
            daily_bars.asset_id = last_hours.asset_id
            and daily_bars.date = last_hours.date
    where
        daily_bars.source = 'coingecko_hourly'
        and daily_bars.close is distinct from last_hours.close

)

select * from final
