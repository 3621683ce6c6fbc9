{#
    daily_bars rolled up to calendar months, and before an equity's daily history starts, the
    provider's own monthly bars (int_equity_monthly_history: the free plan's long history;
    source `alphavantage_monthly`, split-adjusted only, n_bars and dollar_volume unknown).
#}

with

rolled_up as (

    {{ aggregate_bars(ref('daily_bars'), 'month') }}

),

assets as (

    select * from {{ ref('dim_assets') }}

),

monthly_history as (

    select * from {{ ref('int_equity_monthly_history') }}

),

history_bars as (

    select
        assets.asset_id,
        monthly_history.period_start,
        monthly_history.period_end,
        cast(monthly_history.open as double precision) as open,
        cast(monthly_history.high as double precision) as high,
        cast(monthly_history.low as double precision) as low,
        cast(monthly_history.close as double precision) as close,
        cast(monthly_history.volume as double precision) as volume,
        cast(null as double precision) as dollar_volume,
        cast(null as bigint) as n_bars,
        cast('alphavantage_monthly' as text) as source,
        false as adjusted_flag

    from monthly_history
    inner join assets
        on monthly_history.alpha_vantage_symbol = assets.alpha_vantage_symbol
    where assets.asset_type = 'equity'

),

final as (

    select * from rolled_up
    union all
    select * from history_bars

)

select * from final
