with

source as (

    select * from {{ source('coingecko', 'coingecko_markets') }}

),

renamed as (

    select
        id as coingecko_id,
        snapshot_date,
        last_updated,
        {%- for metric in var('coingecko_market_metrics') %}
            cast({{ metric }} as double precision) as {{ metric }},
        {%- endfor %}
        _dlt_load_id as load_id

    from source

)

select * from renamed
