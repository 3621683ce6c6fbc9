{#
    Close-to-close moves by more than `max_ratio` times, up or down. Bars are split-adjusted,
    so such a jump is bad data (a missed split, a unit error), never a market move.
#}
{% test impossible_moves(model, max_ratio) %}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

bars as (

    select
        asset_id,
        date,
        close,
        lag(close) over (partition by asset_id order by date) as previous_close

    from {{ model }}

)

select
    assets.asset_id,
    assets.symbol,
    bars.date,
    bars.previous_close,
    bars.close,
    bars.close / bars.previous_close as ratio

from bars
inner join assets
    on bars.asset_id = assets.asset_id
where
    (
        bars.close > {{ max_ratio }} * bars.previous_close
        or bars.close * {{ max_ratio }} < bars.previous_close
    )
    and {{ change_scope_reported(model, 'bars') }}

{% endtest %}
