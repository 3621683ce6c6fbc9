{#
    The `monthly_bars` mart: int_monthly_bars_aggregated (daily bars rolled up, and the
    provider's monthly history before them) as analysts query it, under its contract. A view in the audit schema; published as a table by the months computed since the
    last publish.
#}
{{
    config(
        materialized='view',
        meta={
            'publish_new_rows_from': 'int_monthly_bars_aggregated',
            'publish_date_column': 'period_start',
        },
    )
}}

with

monthly_bars as (

    select * from {{ ref('int_monthly_bars_aggregated') }}

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

    from monthly_bars

)

select * from final
