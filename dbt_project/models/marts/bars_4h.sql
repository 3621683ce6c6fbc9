{#
    The `bars_4h` mart: int_bars_4h_aggregated as analysts query it. A view in the audit
    schema; published as a table by the windows this run computed.
#}
{{ config(
    materialized='view',
    meta={'publish_new_rows_from': 'int_bars_4h_aggregated', 'publish_date_column': 'window_start'},
) }}

with

bars_4h as (

    select * from {{ ref('int_bars_4h_aggregated') }}

),

final as (

    select
        asset_id,
        window_start,
        open,
        high,
        low,
        close,
        volume_24h,
        source,
        n_points,
        load_id

    from bars_4h

)

select * from final
