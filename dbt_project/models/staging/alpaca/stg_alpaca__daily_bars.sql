with

source as (

    select * from {{ source_or_empty('alpaca', 'alpaca_daily_bars', {
        'symbol': 'text', 'bar_date': 'date', 'open': 'double precision', 'high': 'double precision',
        'low': 'double precision', 'close': 'double precision', 'volume': 'double precision',
        'trade_count': 'bigint', 'vwap': 'double precision', 'feed': 'text', 'adjustment': 'text',
        '_dlt_load_id': 'text'
    }) }}

),

renamed as (

    select
        symbol as alpaca_symbol,
        bar_date,
        cast(open as double precision) as open,
        cast(high as double precision) as high,
        cast(low as double precision) as low,
        cast(close as double precision) as close,
        cast(volume as double precision) as volume,
        cast(trade_count as bigint) as trade_count,
        cast(vwap as double precision) as vwap,
        feed,
        adjustment,
        _dlt_load_id as load_id

    from source

)

select * from renamed
