with

source as (

    select * from {{ source_or_empty('fear_greed', 'fear_greed_index', {
        'index_date': 'date', 'value': 'text', 'value_classification': 'text', '_dlt_load_id': 'text'
    }) }}

),

renamed as (

    select
        index_date,
        cast(value as integer) as index_value,
        value_classification,
        _dlt_load_id as load_id

    from source

)

select * from renamed
