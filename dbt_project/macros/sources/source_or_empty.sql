{#
    The source relation, or an empty relation with the given columns when dlt never created
    the table: `coingecko_ohlc` exists only once a pro key has been used, and a provider that
    was down on a warehouse's first run has no tables yet. The other providers' marts still
    build and publish; the empty ones are reported by the run summary and the gates.
#}
{% macro source_or_empty(source_name, table_name, columns) %}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute and load_relation(relation) is none -%}
        (select
        {%- for name, data_type in columns.items() %}
            cast(null as {{ data_type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        where 1 = 0) as {{ table_name }}
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{% endmacro %}
