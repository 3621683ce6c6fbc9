{#
    CoinGecko's true hourly candles (paid plans). CoinGecko stamps a candle with its close time;
    the extractor keeps that (ts) and adds the hour's start (candle_hour, UTC), the key here.
#}

with

source as (

    select * from {{ source_or_empty('coingecko', 'coingecko_ohlc_hourly', {
        'coin_id': 'text', 'ts': 'bigint', 'candle_hour': 'timestamp with time zone', 'candle_date': 'date',
        'open': 'double precision', 'high': 'double precision', 'low': 'double precision',
        'close': 'double precision', '_dlt_load_id': 'text'
    }) }}

),

renamed as (

    select
        coin_id as coingecko_id,
        candle_hour,
        candle_date,
        cast(open as double precision) as open,
        cast(high as double precision) as high,
        cast(low as double precision) as low,
        cast(close as double precision) as close,
        _dlt_load_id as load_id

    from source

)

select * from renamed
