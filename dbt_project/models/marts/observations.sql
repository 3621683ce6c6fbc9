{#
    Long key-value facts: every numeric field of the CoinGecko markets snapshot (the list
    is var('coingecko_market_metrics')) per coin and snapshot day, and the market-wide
    Fear & Greed index (asset_id NULL). Adding a snapshot metric is one line in that list.
#}

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

),

market_wide_observations as (

    select
        cast(null as integer) as asset_id,
        index_date as date,
        'fear_greed_index' as metric,
        cast(index_value as double precision) as value,
        'alternative_me' as source,
        load_id

    from fear_greed

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
        cast(load_id as text) as load_id

    from unioned

)

select * from final
