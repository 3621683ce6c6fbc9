with

source as (

    select * from {{ source_or_empty('alpha_vantage', 'alpha_vantage_splits', {
        'symbol': 'text', 'effective_date': 'text', 'split_factor': 'text', '_dlt_load_id': 'text'
    }) }}

),

renamed as (

    select
        symbol as alpha_vantage_symbol,
        cast(effective_date as date) as effective_date,
        cast(split_factor as double precision) as split_factor,
        _dlt_load_id as load_id

    from source

)

select * from renamed
