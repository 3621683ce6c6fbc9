{#
    Which days of each crypto asset's daily market snapshot this build recomputes: from the
    first day of its recomputed bars (int_bar_recomputes_planned), of its changed markets
    snapshots less a day (a day takes the snapshot taken the next day), or of a changed Fear &
    Greed day (market-wide: every crypto asset), whichever is first (int_observation_changes).
    `context_rn` is the first bar the recomputed days read: 7 before the first recomputed one
    (the 7-day volatility's returns and the previous close). Materialized before
    int_market_snapshots deletes what it recomputes (its pre-hook reads this).
#}
{{ config(materialized='table', post_hook=["{{ analyze_relation(this) }}"]) }}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

plans as (

    select * from {{ ref('int_bar_recomputes_planned') }}

),

observation_changes as (

    select * from {{ ref('int_observation_changes') }}

),

daily_bars as (

    select * from {{ ref('int_daily_bars') }}

),

crypto as (

    select asset_id

    from assets
    where asset_type = 'crypto'

),

{#- an asset that left the universe is planned in full: its snapshot rows go with its bars #}

starts as (

    select
        plans.asset_id,
        plans.recompute_from as from_date
    from plans
    left join assets
        on plans.asset_id = assets.asset_id
    where
        plans.recompute_from is not null
        and (assets.asset_id is null or assets.asset_type = 'crypto')
    union all
    select
        observation_changes.asset_id,
        cast(observation_changes.date - interval '1 day' as date) as from_date
    from observation_changes
    inner join crypto
        on observation_changes.asset_id = crypto.asset_id
    where not observation_changes.whole_asset
    union all
    select
        crypto.asset_id,
        observation_changes.date as from_date
    from observation_changes
    cross join crypto
    where observation_changes.asset_id is null and not observation_changes.whole_asset

),

firsts as (

    select
        asset_id,
        min(from_date) as recompute_from

    from starts
    group by asset_id

),

final as (

    select
        firsts.asset_id,
        firsts.recompute_from,
        min(daily_bars.rn) - 7 as context_rn

    from firsts
    left join daily_bars
        on
            firsts.asset_id = daily_bars.asset_id
            and firsts.recompute_from <= daily_bars.date
    group by firsts.asset_id, firsts.recompute_from

)

select * from final
