{#
    The `assets` mart. The model is named dim_assets only because the seed owns the node
    name `assets`; the table is published as `assets` (alias), the name analysts query.
    assets.csv's optional columns get their defaults here (a file without them keeps working):
    `exchange` from an Alpha Vantage suffix (var alpha_vantage_exchange_suffixes), else XNYS
    for equities (NULL for crypto, which trades every day), `currency` USD.
#}
{{ config(alias='assets') }}

{%- set present = seed_columns(ref('assets')) %}

with

assets as (

    select * from {{ ref('assets') }}

),

with_optional_columns as (

    select
        *,
        {{ 'exchange' if 'exchange' in present else 'cast(null as text)' }} as listed_exchange,
        {{ 'currency' if 'currency' in present else 'cast(null as text)' }} as quoted_currency,
        {{ 'alpaca_symbol' if 'alpaca_symbol' in present else 'cast(null as text)' }} as listed_alpaca_symbol

    from assets

),

final as (

    select
        cast(asset_id as integer) as asset_id,
        cast(symbol as text) as symbol,
        cast(name as text) as name,
        cast(asset_type as text) as asset_type,
        cast(coingecko_id as text) as coingecko_id,
        cast(alpha_vantage_symbol as text) as alpha_vantage_symbol,
        cast(is_active as boolean) as is_active,
        cast(
            case
                when asset_type = 'crypto' then null
                when nullif(trim(listed_exchange), '') is not null then upper(trim(listed_exchange))
                {% for suffix, exchange in var('alpha_vantage_exchange_suffixes').items() -%}
                    when upper(alpha_vantage_symbol) like '%.{{ suffix }}' then '{{ exchange }}'
                {% endfor -%}
                else 'XNYS'
            end as text
        ) as exchange,
        cast(coalesce(nullif(upper(trim(quoted_currency)), ''), 'USD') as text) as currency,
        cast(nullif(trim(listed_alpaca_symbol), '') as text) as alpaca_symbol

    from with_optional_columns

)

select * from final
