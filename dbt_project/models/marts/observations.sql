{#
    The `observations` mart: int_observations_collected as analysts query it, under its
    contract: long key-value facts, every numeric field of the CoinGecko markets snapshot per
    coin and snapshot day, and the market-wide Fear & Greed index (asset_id NULL). A view in
    the audit schema; published as a table by the rows computed since the last publish.
#}
{{
    config(
        materialized='view',
        meta={
            'publish_new_rows_from': 'int_observations_collected',
            'publish_market_wide_rows': true,
        },
    )
}}

with

observations as (

    select * from {{ ref('int_observations_collected') }}

),

final as (

    select
        asset_id,
        date,
        metric,
        value,
        source,
        load_id

    from observations

)

select * from final
