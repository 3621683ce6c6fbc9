{#
    The `bar_reconciliation` mart: int_bars_reconciled as analysts query it (Alpaca's and Alpha
    Vantage's unadjusted closes and volumes per equity and session). A view in the audit
    schema; published as a table by the rows computed since the last publish.
#}
{{ config(materialized='view', meta={'publish_new_rows_from': 'int_bars_reconciled'}) }}

with

reconciled as (

    select * from {{ ref('int_bars_reconciled') }}

),

final as (

    select
        asset_id,
        symbol,
        date,
        alphavantage_close,
        alpaca_close,
        close_difference,
        close_difference_ratio,
        alphavantage_volume,
        alpaca_volume,
        volume_ratio,
        alpaca_feed,
        status,
        within_tolerance

    from reconciled

)

select * from final
