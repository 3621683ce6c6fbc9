{#
    on-run-start: make dlt's `raw` dataset queryable where dlt cannot load it. On Spark (no dlt
    destination) extract/pipeline.py writes it with dlt's filesystem destination, as Parquet
    files under `<MARKET_ELT_SPARK_DIR>/raw/<table>/`, plus its own tables (_dlt_loads,
    _dlt_version) as JSON lines: this declares each as a view `raw.<table>`, so the sources read
    the same relations as on DuckDB and Postgres. Other targets: nothing to do (dlt loads there).
#}
{% macro raw_relations() -%}
    {{ return(adapter.dispatch('raw_relations', 'market_elt')()) }}
{%- endmacro %}

{% macro default__raw_relations() -%}
{%- endmacro %}

{#-
    The tables come from dlt's stored schemas (the newest version of each source's), only those
    dlt has written data to. Files keep every load: dlt's filesystem destination appends, so a
    merge table's view keeps what dlt's delete-insert would have left, reading the newest load
    per primary key (and per merge key, which replaces every row of the key it brings).
-#}
{% macro spark__raw_relations() -%}
    {%- if not execute or flags.WHICH not in ('run', 'build', 'freshness', 'source') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set raw_dir = env_var('MARKET_ELT_SPARK_DIR', 'data/spark') ~ '/raw' -%}
    {%- do run_query('create database if not exists raw') -%}
    {%- set versions = raw_dlt_table('_dlt_version', raw_dir) -%}
    {%- do raw_dlt_table('_dlt_loads', raw_dir) -%}
    {%- set schemas = run_query(
        'select schema from (select schema, row_number() over (partition by schema_name order by version desc) as n'
        ~ ' from ' ~ versions ~ ') where n = 1') -%}
    {%- for row in schemas.rows -%}
        {%- for table in fromjson(row[0])['tables'].values()
            if not table['name'].startswith('_dlt') and (table.get('x-normalizer') or {}).get('seen-data') -%}
            {%- do run_query(raw_merged_view(table, raw_dir)) -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endmacro %}

{#-
    dlt's own table `raw.<name>` over its JSON lines: a table of the columns market-elt reads,
    empty while dlt has written none (a path read directly must exist, and Spark skips a
    directory named with a leading underscore unless it is a table's location).
-#}
{% macro raw_dlt_table(name, raw_dir) -%}
    {%- set columns = {
        '_dlt_version': 'version bigint, schema_name string, inserted_at timestamp, schema string',
        '_dlt_loads': 'load_id string, schema_name string, status bigint, inserted_at timestamp',
    }[name] -%}
    {%- set table = 'raw.' ~ name -%}
    {%- do run_query('create table if not exists ' ~ table ~ ' (' ~ columns ~ ") using json location '" ~ raw_dir ~ '/' ~ name ~ "'") -%}
    {%- do run_query('refresh table ' ~ table) -%}
    {{ return(table) }}
{%- endmacro %}

{% macro raw_merged_view(table, raw_dir) -%}
    {%- set columns = table['columns'].values() | list -%}
    {%- set names = columns | map(attribute='name') | list -%}
    {%- set primary_key = columns | selectattr('primary_key', 'defined') | selectattr('primary_key') | map(attribute='name') | list -%}
    {%- set merge_key = columns | selectattr('merge_key', 'defined') | selectattr('merge_key') | map(attribute='name') | list -%}
    {%- set files = 'parquet.`' ~ raw_dir ~ '/' ~ table['name'] ~ '`' -%}
    {%- set merges = table.get('write_disposition') == 'merge' and primary_key -%}
    create or replace view raw.{{ table['name'] }} as
    select {{ names | join(', ') }}
    from (
        select
            files.*
            {%- if merges %},
            max(_dlt_load_id) over (partition by {{ primary_key | join(', ') }}) as newest_by_primary_key,
            max(_dlt_load_id) over (partition by {{ (merge_key or primary_key) | join(', ') }}) as newest_by_merge_key,
            row_number() over (partition by {{ primary_key | join(', ') }}, _dlt_load_id order by _dlt_id) as copy_in_load
            {%- endif %}
        from {{ files }} as files
    ) as loaded
    {%- if merges %}
    where
        _dlt_load_id = newest_by_primary_key
        and _dlt_load_id = newest_by_merge_key
        and copy_in_load = 1
    {%- endif %}
{%- endmacro %}
