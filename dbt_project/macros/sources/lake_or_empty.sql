{#
    A dataset of the Parquet lake (source `lake`, extract/alpaca/lake.py), or an empty relation
    with the given columns when the lake has no file of it yet (DuckDB's read_parquet fails on
    a glob matching nothing) or the target cannot read Parquet (Postgres): the lake's models
    then build empty, and every other model is unaffected.
#}
{% macro lake_or_empty(table_name, columns) %}
    {#- called whatever is found, so dbt knows the model reads the source (`source:lake+` selects it) -#}
    {%- set relation = source('lake', table_name) -%}
    {%- set files = lake_dir() ~ '/' ~ table_name ~ '/*/*/*/*.parquet' -%}
    {%- set found = false -%}
    {%- if execute and target.type == 'duckdb' -%}
        {%- set found = run_query("select count(*) from glob('" ~ files ~ "')").columns[0].values()[0] > 0 -%}
    {%- endif -%}
    {%- if found -%}
        {{ relation }}
    {%- else -%}
        (select
        {%- for name, data_type in columns.items() %}
            cast(null as {{ data_type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        where 1 = 0) as {{ table_name }}
    {%- endif -%}
{% endmacro %}

{#- The lake's directory: MARKET_ELT_LAKE_DIR, as the flows set it (default `data/lake`). -#}
{% macro lake_dir() -%}
    {{ env_var('MARKET_ELT_LAKE_DIR', 'data/lake') | replace("'", "''") }}
{%- endmacro %}
