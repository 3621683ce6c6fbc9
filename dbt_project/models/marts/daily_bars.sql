{#
    The `daily_bars` mart: int_daily_bars as analysts query it, under its contract. A view in
    the audit schema (the bars are kept incrementally in int_daily_bars); published as a table,
    by the rows int_daily_bars wrote since the last publish (int_bar_changes lists them).
#}
{{ config(materialized='view', meta={'publish_new_rows_from': 'int_daily_bars'}) }}

with

daily_bars as (

    select * from {{ ref('int_daily_bars') }}

),

final as (

    select
        asset_id,
        date,
        open,
        high,
        low,
        close,
        volume,
        dollar_volume,
        source,
        currency,
        adjusted_flag,
        adjustment,
        load_id

    from daily_bars

)

select * from final
