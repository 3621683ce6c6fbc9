{#
    The `weekly_bars` mart: int_weekly_bars_aggregated as analysts query it, under its
    contract. A view in the audit schema; published as a table by the weeks computed since the
    last publish.
#}
{{
    config(
        materialized='view',
        meta={
            'publish_new_rows_from': 'int_weekly_bars_aggregated',
            'publish_date_column': 'period_start',
        },
    )
}}

with

weekly_bars as (

    select * from {{ ref('int_weekly_bars_aggregated') }}

),

final as (

    select
        asset_id,
        period_start,
        period_end,
        open,
        high,
        low,
        close,
        volume,
        dollar_volume,
        n_bars,
        source,
        adjusted_flag

    from weekly_bars

)

select * from final
