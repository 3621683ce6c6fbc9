with

source as (

    select * from {{ source_or_empty('coingecko', 'coingecko_market_chart', {
        'coin_id': 'text', 'ts': 'bigint', 'point_date': 'date', 'price': 'double precision',
        'market_cap': 'double precision', 'total_volume': 'double precision', '_dlt_load_id': 'text'
    }) }}

),

renamed as (

    select
        coin_id as coingecko_id,
        ts as point_ms,
        point_date,
        cast(price as double precision) as price,
        cast(market_cap as double precision) as market_cap,
        cast(total_volume as double precision) as total_volume_24h_usd,
        _dlt_load_id as load_id

    from source

)

select * from renamed
