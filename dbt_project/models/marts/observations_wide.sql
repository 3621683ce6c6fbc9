{#
    `observations` pivoted: one row per (asset_id, date), one column per metric. The metrics
    are var('coingecko_market_metrics') plus the Fear & Greed index: adding a snapshot metric
    is one line in dbt_project.yml and no edit here.
#}

{%- set metrics = var('coingecko_market_metrics') + ['fear_greed_index'] %}

with

observations as (

    select * from {{ ref('observations') }}

),

pivoted as (

    select
        asset_id,
        date,
        {%- for metric in metrics %}
            max(case when metric = '{{ metric }}' then value end) as {{ metric }},
        {%- endfor %}
        count(*) as n_metrics

    from observations
    group by asset_id, date

)

select * from pivoted
