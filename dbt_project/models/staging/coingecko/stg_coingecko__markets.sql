with

source as (

    {%- set columns = {'id': 'text', 'snapshot_date': 'date', 'last_updated': 'timestamp', '_dlt_load_id': 'text'} %}
    {%- for metric in var('coingecko_market_metrics') %}
        {%- do columns.update({metric: 'double precision'}) %}
    {%- endfor %}
    select * from {{ source_or_empty('coingecko', 'coingecko_markets', columns) }}

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
