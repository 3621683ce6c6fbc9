{#
    The `observations_wide` mart: `observations` pivoted (int_observations_pivoted), one row per
    (asset_id, date), one column per metric. A view in the audit schema; published as a table by
    the rows computed since the last publish.
#}
{{
    config(
        materialized='view',
        meta={
            'publish_new_rows_from': 'int_observations_pivoted',
            'publish_market_wide_rows': true,
        },
    )
}}

{%- set metrics = var('coingecko_market_metrics') + ['fear_greed_index'] %}

with

observations_wide as (

    select * from {{ ref('int_observations_pivoted') }}

),

final as (

    select
        asset_id,
        date,
        {%- for metric in metrics %}
            {{ metric }},
        {%- endfor %}
        n_metrics

    from observations_wide

)

select * from final
