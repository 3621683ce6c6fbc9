{#
    The long observations (the `observations` mart with `computed_at`), kept incrementally:
    each build deletes the keys int_observation_changes lists (its pre-hook) and appends them
    again from staging: every numeric field of the CoinGecko markets snapshot (the list is
    var('coingecko_market_metrics')) per coin and snapshot day, and the market-wide Fear &
    Greed index (asset_id NULL). Adding a snapshot metric is one line in that list (then a full
    refresh recomputes the history).
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ observations_delete_recomputed(ref('int_observation_changes')) }}"],
    )
}}

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

changes as (

    select * from {{ ref('int_observation_changes') }}

),

market_metrics as (

    {%- for metric in var('coingecko_market_metrics') %}
        select
            coingecko_id,
            snapshot_date as date,
            '{{ metric }}' as metric,
            {{ metric }} as value,
            load_id
        from markets
        where {{ metric }} is not null
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

asset_observations as (

    select
        assets.asset_id,
        market_metrics.date,
        market_metrics.metric,
        market_metrics.value,
        'coingecko' as source,
        market_metrics.load_id

    from market_metrics
    inner join assets
        on market_metrics.coingecko_id = assets.coingecko_id
    inner join changes
        on
            assets.asset_id = changes.asset_id
            and market_metrics.date = changes.date
    where assets.asset_type = 'crypto'

),

market_wide_observations as (

    select
        cast(null as integer) as asset_id,
        fear_greed.index_date as date,
        'fear_greed_index' as metric,
        cast(fear_greed.index_value as double precision) as value,
        'alternative_me' as source,
        fear_greed.load_id

    from fear_greed
    inner join changes
        on
            changes.asset_id is null
            and fear_greed.index_date = changes.date

),

unioned as (

    select * from asset_observations
    union all
    select * from market_wide_observations

),

final as (

    select
        cast(asset_id as integer) as asset_id,
        cast(date as date) as date,
        cast(metric as text) as metric,
        cast(value as double precision) as value,
        cast(source as text) as source,
        cast(load_id as text) as load_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as computed_at

    from unioned

)

select * from final
