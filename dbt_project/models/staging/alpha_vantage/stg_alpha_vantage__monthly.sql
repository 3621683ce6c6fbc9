with

source as (

    select * from {{ source_or_empty('alpha_vantage', 'alpha_vantage_monthly', {
        'symbol': 'text', 'date': 'date', '_1_open': 'text', '_2_high': 'text', '_3_low': 'text',
        '_4_close': 'text', '_5_volume': 'text', '_dlt_load_id': 'text'
    }) }}

),

renamed as (

    select
        symbol as alpha_vantage_symbol,
        date as last_session_date,
        cast(_1_open as double precision) as open,
        cast(_2_high as double precision) as high,
        cast(_3_low as double precision) as low,
        cast(_4_close as double precision) as close,
        cast(_5_volume as double precision) as volume,
        _dlt_load_id as load_id

    from source

)

select * from renamed
