with

source as (

    select * from {{ source_or_empty('alpha_vantage', 'alpha_vantage_daily', {
        'symbol': 'text', 'date': 'date', 'function': 'text', '_1_open': 'text', '_2_high': 'text',
        '_3_low': 'text', '_4_close': 'text', '_5_adjusted_close': 'text', '_5_volume': 'text', '_6_volume': 'text',
        '_7_dividend_amount': 'text', '_8_split_coefficient': 'text', '_dlt_load_id': 'text'
    }) }}

),

renamed as (

    select
        symbol as alpha_vantage_symbol,
        date as bar_date,
        function as series_function,
        cast(_1_open as double precision) as open,
        cast(_2_high as double precision) as high,
        cast(_3_low as double precision) as low,
        cast(_4_close as double precision) as close,
        cast(_5_adjusted_close as double precision) as provider_adjusted_close,
        cast(coalesce(_6_volume, _5_volume) as double precision) as volume,
        coalesce(cast(_7_dividend_amount as double precision), 0) as dividend_amount,
        coalesce(cast(_8_split_coefficient as double precision), 1) as split_coefficient,
        function = 'TIME_SERIES_DAILY_ADJUSTED' as has_corporate_actions,
        _dlt_load_id as load_id

    from source

)

select * from renamed
