{#
    The `daily_market_snapshot` mart: int_market_snapshots as analysts query it. A view in the
    audit schema; published as a table by the rows computed since the last publish.
#}
{{ config(materialized='view', meta={'publish_new_rows_from': 'int_market_snapshots'}) }}

with

snapshots as (

    select * from {{ ref('int_market_snapshots') }}

),

final as (

    select
        asset_id,
        date,
        close,
        change_24h,
        volatility_7d,
        volume,
        dollar_volume,
        market_cap,
        market_cap_rank,
        fear_greed_value,
        fear_greed_class

    from snapshots

)

select * from final
