{#
    Alpaca's minute bars from the Parquet lake, one row per Alpaca symbol and minute, dated by
    the New York session they belong to; empty while the lake holds none (lake_or_empty).
#}

with

source as (

    select *
    from {{ lake_or_empty('equities_1min', {
        'symbol': 'text', 't': 'timestamptz', 'open': 'double precision', 'high': 'double precision',
        'low': 'double precision', 'close': 'double precision', 'volume': 'double precision',
        'trade_count': 'bigint', 'vwap': 'double precision', 'feed': 'text', 'loaded_at': 'timestamptz'
    }) }}

),

renamed as (

    select
        cast(symbol as text) as alpaca_symbol,
        cast(t as timestamptz) as bar_time,
        cast(timezone('America/New_York', cast(t as timestamptz)) as date) as session_date,
        cast(timezone('America/New_York', cast(t as timestamptz)) as time) as local_time,
        cast(open as double precision) as open,
        cast(high as double precision) as high,
        cast(low as double precision) as low,
        cast(close as double precision) as close,
        cast(volume as double precision) as volume,
        cast(trade_count as bigint) as trade_count,
        cast(vwap as double precision) as vwap,
        cast(feed as text) as feed,
        cast(loaded_at as timestamptz) as loaded_at

    from source

)

select * from renamed
