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
        cast(asset_id as integer) as asset_id,
        cast(symbol as text) as symbol,
        cast(name as text) as name,
        cast(asset_type as text) as asset_type,
        cast(coingecko_id as text) as coingecko_id,
        cast(alpha_vantage_symbol as text) as alpha_vantage_symbol,
        cast(is_active as boolean) as is_active

    from assets

)

select * from final
