{#
    Which observations this build recomputes: the (asset_id, date) keys of CoinGecko markets
    snapshots and Fear & Greed days (asset_id NULL, market-wide) loaded after the stored
    observations of that asset (their newest load id; a re-fetched day comes back under a new
    one), and every key of a crypto asset int_bar_recomputes_planned recomputes in full (its row
    in the universe changed). An asset recomputed in full, or that left the universe, is also
    listed once with `whole_asset` (and no date): all its stored rows go first. Every key on a
    first or full build. Materialized before int_observations_collected and
    int_observations_pivoted delete what they recompute (their pre-hooks read this).
#}
{{ config(materialized='table', post_hook=["{{ analyze_relation(this) }}"]) }}

{%- set stored = stored_relation('int_observations_collected') %}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

markets as (

    select * from {{ ref('stg_coingecko__markets') }}

),

fear_greed as (

    select * from {{ ref('stg_fear_greed__index') }}

),

plans as (

    select * from {{ ref('int_bar_recomputes_planned') }}

),

stored_observations as (

    {%- if stored is not none %}
        select
            asset_id,
            date,
            load_id
        from {{ stored }}
    {%- else %}
        select
            cast(null as integer) as asset_id,
            cast(null as date) as date,
            cast(null as text) as load_id
        where 1 = 0
    {%- endif %}

),

stored_loads as (

    select
        coalesce(asset_id, -1) as asset_key,
        max(load_id) as last_load_id

    from stored_observations
    group by coalesce(asset_id, -1)

),

snapshot_days as (

    select
        assets.asset_id,
        markets.snapshot_date as date,
        markets.load_id

    from markets
    inner join assets
        on
            markets.coingecko_id = assets.coingecko_id
            and assets.asset_type = 'crypto'
    union all
    select
        cast(null as integer) as asset_id,
        index_date as date,
        load_id
    from fear_greed

),

loaded_keys as (

    select
        snapshot_days.asset_id,
        snapshot_days.date,
        false as whole_asset

    from snapshot_days
    left join stored_loads
        on coalesce(snapshot_days.asset_id, -1) = stored_loads.asset_key
    left join plans
        on snapshot_days.asset_id = plans.asset_id
    where
        stored_loads.last_load_id is null
        or snapshot_days.load_id > stored_loads.last_load_id
        or coalesce(plans.in_full, false)

),

{#- assets whose rows go whole: restated or left the universe (a restated one's keys come back above) #}

whole_assets as (

    select
        asset_id,
        cast(null as date) as date,
        true as whole_asset

    from plans
    where in_full

),

final as (

    select distinct
        asset_id,
        date,
        whole_asset

    from loaded_keys
    union all
    select * from whole_assets

)

select * from final
