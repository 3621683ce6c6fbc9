{#
    The `hourly_bars` mart: int_hourly_bars as analysts query it, under its contract. A view in
    the audit schema (the bars are kept incrementally in int_hourly_bars); published as a table
    by the hours this run computed (publish_marts' new rows, keyed by hour_start).
#}
{{ config(
    materialized='view',
    meta={'publish_new_rows_from': 'int_hourly_bars', 'publish_date_column': 'hour_start'},
) }}

with

hourly_bars as (

    select * from {{ ref('int_hourly_bars') }}

),

final as (

    select
        asset_id,
        hour_start,
        open,
        high,
        low,
        close,
        volume,
        volume_24h,
        source,
        session,
        n_points,
        load_id

    from hourly_bars

)

select * from final
