with

source as (

    select * from {{ source('fear_greed', 'fear_greed_index') }}

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
