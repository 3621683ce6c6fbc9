{#
    The `assets` mart. The model is named dim_assets only because the seed owns the node
    name `assets`; the table is published as `assets` (alias), the name analysts query.
#}
{{ config(alias='assets') }}

with

assets as (

    select * from {{ ref('assets') }}

),

final as (

    select
        asset_id,
        symbol,
        name,
        asset_type,
        coingecko_id,
        alpha_vantage_symbol,
        is_active

    from assets

)

select * from final
