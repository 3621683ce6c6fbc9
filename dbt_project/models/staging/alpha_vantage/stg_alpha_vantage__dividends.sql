with

source as (

    select * from {{ source_or_empty('alpha_vantage', 'alpha_vantage_dividends', {
        'symbol': 'text', 'ex_dividend_date': 'text', 'amount': 'text', '_dlt_load_id': 'text'
    }) }}

),

renamed as (

    select
        symbol as alpha_vantage_symbol,
        cast(ex_dividend_date as date) as ex_dividend_date,
        cast(amount as double precision) as dividend_amount,
        _dlt_load_id as load_id

    from source

)

select * from renamed
