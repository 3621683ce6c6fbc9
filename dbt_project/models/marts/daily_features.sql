{#
    `daily_features`: one row per (asset_id, date) of daily_bars with every feature of
    features.md. A view over the incrementally maintained int_daily_features_computed,
    without its state columns.
#}
{{ config(materialized='view') }}

with

daily_features_computed as (

    select * from {{ ref('int_daily_features_computed') }}

),

final as (

    select
        asset_id,
        date,
        {{ features_columns() | join(',\n        ') }}

    from daily_features_computed

)

select * from final
