{#
    The `daily_session_features` mart: int_daily_sessions_aggregated as analysts query it. A
    view in the audit schema; published as a table by the days this run computed.
#}
{{ config(materialized='view', meta={'publish_new_rows_from': 'int_daily_sessions_aggregated'}) }}

with

daily_sessions as (

    select * from {{ ref('int_daily_sessions_aggregated') }}

),

final as (

    select
        asset_id,
        date,
        asia_return,
        europe_return,
        us_return,
        asia_range_share,
        europe_range_share,
        us_range_share

    from daily_sessions

)

select * from final
