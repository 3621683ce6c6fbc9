{#
    One-day log returns further than `zscore` standard deviations from the mean of the
    asset's previous `window` returns (at least 20 of them). Meant as a warning: real
    markets have such days, and an analyst should look at them. On a daily run the earlier
    bars are context only: a day is reported once, by the run that brought it.
#}
{% test return_outliers(model, zscore, window) %}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

bars as (

    select
        asset_id,
        date,
        close,
        ln(close / lag(close) over (partition by asset_id order by date)) as log_return

    from {{ model }}

),

scored as (

    select
        *,
        avg(log_return) over previous_returns as mean_return,
        stddev_samp(log_return) over previous_returns as stddev_return,
        count(log_return) over previous_returns as n_returns

    from bars
    window previous_returns as (partition by asset_id order by date rows between {{ window }} preceding and 1 preceding)

)

select
    assets.asset_id,
    assets.symbol,
    scored.date,
    scored.log_return,
    scored.mean_return,
    scored.stddev_return

from scored
inner join assets
    on scored.asset_id = assets.asset_id
where
    scored.n_returns >= 20
    and scored.stddev_return > 0
    and abs(scored.log_return - scored.mean_return) > {{ zscore }} * scored.stddev_return
    and {{ change_scope_reported(model, 'scored') }}

{% endtest %}
