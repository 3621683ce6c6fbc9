{#
    Every crypto asset has a bar for every hour between its first and last: each failing row
    names the asset and the hours missing after `last_hour_before`. The gate holds back that
    asset only.
#}

with

hourly_bars as (

    select * from {{ ref('hourly_bars') }}

),

consecutive as (

    select
        asset_id,
        hour_start,
        lag(hour_start) over (partition by asset_id order by hour_start) as previous_hour

    from hourly_bars

),

final as (

    select
        asset_id,
        previous_hour as last_hour_before,
        hour_start as first_hour_after

    from consecutive
    where hour_start - previous_hour > interval '1 hour'

)

select * from final
