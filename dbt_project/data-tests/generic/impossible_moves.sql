{#
    Close-to-close moves by more than `max_ratio` times, up or down. Bars are split-adjusted,
    so such a jump is bad data (a missed split, a unit error), never a market move.
#}
{% test impossible_moves(model, max_ratio) %}

with

bars as (

    select
        asset_id,
        date,
        close,
        lag(close) over (partition by asset_id order by date) as previous_close

    from {{ model }}

)

select
    asset_id,
    date,
    previous_close,
    close,
    close / previous_close as ratio

from bars
where
    close > {{ max_ratio }} * previous_close
    or close * {{ max_ratio }} < previous_close

{% endtest %}
