{#
    The "publish" of write-audit-publish: copy every mart built (and tested) in the `audit`
    schema to the target schema, where analysts and the runbook query them, in one
    transaction: readers see the previous good marts until the new ones are all in place.
    The flow calls it (`dbt run-operation publish_marts`) only after `dbt test` passed.
    Views in `audit` (daily_features reads the incremental feature state) are published as
    tables too: a view would show the next, unaudited build as soon as it is written.

    A mart whose config has `meta: {publish_new_rows_from: <model>}` is published by its new
    rows only (see publish_new_rows), so a daily run does not rewrite millions of unchanged
    feature rows; it is copied whole the first time and whenever its columns changed.
#}
{% macro publish_marts() %}
    {%- set statements = [] -%}
    {%- set published_names = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model'
        and node.config.schema == 'audit'
        and node.config.materialized in ('table', 'incremental', 'view') -%}
        {%- set built = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- if built is not none -%}
            {%- set published = api.Relation.create(database=target.database, schema=target.schema, identifier=node.alias) -%}
            {%- set existing = adapter.get_relation(database=target.database, schema=target.schema, identifier=node.alias) -%}
            {%- set source_name = (node.config.meta or {}).get('publish_new_rows_from') -%}
            {%- if source_name -%}
                {%- do statements.extend(publish_new_rows(built, existing, published, source_name)) -%}
            {%- else -%}
                {%- if existing is not none -%}
                    {%- do statements.append('drop ' ~ existing.type ~ ' if exists ' ~ published ~ ' cascade') -%}
                {%- endif -%}
                {%- do statements.append('create table ' ~ published ~ ' as select * from ' ~ built) -%}
            {%- endif -%}
            {%- do published_names.append(node.alias) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do adapter.create_schema(api.Relation.create(database=target.database, schema=target.schema)) -%}
    {%- do run_query('begin;\n' ~ statements | join(';\n') ~ ';\ncommit;') -%}
    {{ log('published to ' ~ target.schema ~ ': ' ~ published_names | sort | join(', '), info=true) }}
{% endmacro %}

{#
    Statements publishing `built` (keyed by asset_id, date) from the rows of its incremental
    source model that no earlier publish took: the source's rows carry the dbt invocation
    that computed them (computed_in_invocation, append-only per asset), and a small log
    table beside the source lists the invocations already published. An asset recomputed
    in full (its new rows start at rn = 0) loses all its published rows first; then the new
    rows are inserted. Without a published table, a log, or with changed columns: a copy.
#}
{% macro publish_new_rows(built, existing, published, source_name) %}
    {%- set source_node = graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', source_name)
        | first -%}
    {%- set source = adapter.get_relation(database=source_node.database, schema=source_node.schema, identifier=source_node.alias) -%}
    {%- set log_relation = api.Relation.create(database=source.database, schema=source.schema, identifier=source.identifier ~ '_published') -%}
    {%- set log_exists = adapter.get_relation(database=log_relation.database, schema=log_relation.schema, identifier=log_relation.identifier) is not none -%}
    {%- set same_columns = existing is not none and existing.type == 'table'
        and (adapter.get_columns_in_relation(existing) | map(attribute='name') | list)
        == (adapter.get_columns_in_relation(built) | map(attribute='name') | list) -%}
    {%- set new_rows -%}
        select asset_id, date, rn from {{ source }}
        where computed_in_invocation not in (select computed_in_invocation from {{ log_relation }})
    {%- endset -%}
    {%- set statements = [] -%}
    {%- if log_exists and same_columns -%}
        {#- two deletes, each a hashed (semi-)join on Postgres: an OR of the two conditions made
            Postgres compare every published row with every new row (736 s at 7.3M rows) -#}
        {%- do statements.append(
            'delete from ' ~ published ~ ' where asset_id in (select asset_id from (' ~ new_rows ~ ') as n where rn = 0)') -%}
        {%- do statements.append(
            'delete from ' ~ published ~ ' where exists (select 1 from (' ~ new_rows ~ ') as n'
            ~ ' where n.asset_id = ' ~ published ~ '.asset_id and n.date = ' ~ published ~ '.date)') -%}
        {%- do statements.append(
            'insert into ' ~ published ~ ' select * from ' ~ built
            ~ ' where (asset_id, date) in (select asset_id, date from (' ~ new_rows ~ ') as n)') -%}
    {%- else -%}
        {%- if existing is not none -%}
            {%- do statements.append('drop ' ~ existing.type ~ ' if exists ' ~ published ~ ' cascade') -%}
        {%- endif -%}
        {%- do statements.append('create table ' ~ published ~ ' as select * from ' ~ built) -%}
        {%- do statements.append('drop table if exists ' ~ log_relation) -%}
        {%- do statements.append('create table ' ~ log_relation ~ ' (computed_in_invocation varchar(64))') -%}
    {%- endif -%}
    {%- do statements.append(
        'insert into ' ~ log_relation ~ ' select distinct computed_in_invocation from ' ~ source
        ~ ' where computed_in_invocation not in (select computed_in_invocation from ' ~ log_relation ~ ')') -%}
    {{ return(statements) }}
{% endmacro %}
