{#
    int_daily_bars rolled up to calendar months (aggregate_bars) and, before an equity's daily
    history starts, the provider's own monthly bars (int_equity_monthly_history). Kept
    incrementally like int_weekly_bars_aggregated: each build rewrites, for the assets
    int_bar_recomputes_planned lists, the months from the one its first recomputed day falls
    in; an asset recomputed in full (also when its monthly history was loaded) gets its
    history rows again. `computed_at` says which build wrote a row.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ bars_delete_recomputed(ref('int_bar_recomputes_planned'), 'period_start', 'month') }}"],
        indexes=lookup_indexes(['asset_id', 'period_start']),
    )
}}

-- depends_on: {{ ref('int_bar_recomputes_planned') }}

with

plans as (

    {{ bars_recompute_plans() }}

),

daily_bars as (

    select * from {{ ref('int_daily_bars') }}

),

monthly_history as (

    select * from {{ ref('int_equity_monthly_history') }}

),

recomputed_months as (

    select daily_bars.*

    from daily_bars
    inner join plans
        on
            daily_bars.asset_id = plans.asset_id
            and daily_bars.date >= cast(date_trunc('month', plans.recompute_from) as date)

),

rolled_up as (

    {{ aggregate_bars('recomputed_months', 'month') }}

),

history_bars as (

    select
        monthly_history.asset_id,
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
    inner join plans
        on monthly_history.asset_id = plans.asset_id
    where plans.in_full

),

unioned as (

    select * from rolled_up
    union all
    select * from history_bars

),

final as (

    select
        *,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as computed_at

    from unioned

)

select * from final
