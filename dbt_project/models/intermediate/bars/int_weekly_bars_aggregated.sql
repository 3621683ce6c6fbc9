{#
    int_daily_bars rolled up to weeks starting Monday (aggregate_bars), kept incrementally: each
    build re-aggregates, for the assets int_bar_recomputes_planned lists, the weeks from the one
    its first recomputed day falls in (its pre-hook deletes them first), from the stored daily
    bars of those weeks. `computed_at` says which build wrote a row (weekly_bars publishes the
    rows written since its last publish).
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ bars_delete_recomputed(ref('int_bar_recomputes_planned'), 'period_start', 'week') }}"],
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

recomputed_weeks as (

    select daily_bars.*

    from daily_bars
    inner join plans
        on
            daily_bars.asset_id = plans.asset_id
            and daily_bars.date >= cast(date_trunc('week', plans.recompute_from) as date)

),

aggregated as (

    {{ aggregate_bars('recomputed_weeks', 'week') }}

),

final as (

    select
        *,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as computed_at

    from aggregated

)

select * from final
