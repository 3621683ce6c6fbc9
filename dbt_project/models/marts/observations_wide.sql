{#
    `observations` pivoted: one row per (asset_id, date), one column per metric. The metric
    list is read from the data at compile time, so a new metric needs no edit here.
#}
{{ config(materialized='view') }}

{#- Before `observations` exists (first compile, docs on an empty warehouse) fall back to the configured list. -#}
{%- set metrics = var('coingecko_market_metrics') + ['fear_greed_index'] -%}
{%- if execute and load_relation(ref('observations')) is not none -%}
    {%- set metrics = run_query("select distinct metric from " ~ ref('observations') ~ " order by metric").columns[0].values() -%}
{%- endif %}

with

observations as (

    select * from {{ ref('observations') }}

),

pivoted as (

    select
        asset_id,
        date,
        {%- for metric in metrics %}
        max(case when metric = '{{ metric }}' then value end) as {{ adapter.quote(metric) }},
        {%- endfor %}
        count(*) as n_metrics

    from observations
    group by asset_id, date

)

select * from pivoted
