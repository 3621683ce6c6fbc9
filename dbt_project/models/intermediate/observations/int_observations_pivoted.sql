{#
    int_observations_collected pivoted: one row per (asset_id, date), one column per metric (the
    metrics are var('coingecko_market_metrics') plus the Fear & Greed index: adding a snapshot
    metric is one line in dbt_project.yml and no edit here). Kept incrementally by the keys
    int_observation_changes lists, after int_observations_collected rewrote them.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ observations_delete_recomputed(ref('int_observation_changes')) }}"],
    )
}}

-- depends_on: {{ ref('int_observation_changes') }}

{%- set metrics = var('coingecko_market_metrics') + ['fear_greed_index'] %}

with

observations as (

    select * from {{ ref('int_observations_collected') }}

),

{#- the changed keys; every key on this model's first or full build #}

changed_observations as (

    select observations.*

    from observations
    {%- if is_incremental() %}
        inner join {{ ref('int_observation_changes') }} as changes
            on
                coalesce(observations.asset_id, -1) = coalesce(changes.asset_id, -1)
                and observations.date = changes.date
        where not changes.whole_asset
    {%- endif %}

),

pivoted as (

    select
        asset_id,
        date,
        {%- for metric in metrics %}
            max(case when metric = '{{ metric }}' then value end) as {{ metric }},
        {%- endfor %}
        count(*) as n_metrics,
        max(computed_at) as computed_at

    from changed_observations
    group by asset_id, date

)

select * from pivoted
