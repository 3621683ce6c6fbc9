{#
    The "publish" of write-audit-publish: copy the marts built (and tested) in the `audit`
    schema to the target schema, where analysts and the runbook query them, in one
    transaction: readers see the previous good marts until the new ones are all in place.
    The flow calls it (`dbt run-operation publish_marts`) once the gate (flows/gate.py) has
    read the test results: `quarantined` lists the assets an error-severity test named; their
    published rows stay exactly as last published, every other asset's rows are replaced.
    Views in `audit` (daily_features reads the incremental feature state) are published as
    tables too: a view would show the next, unaudited build as soon as it is written.

    A mart whose config has `meta: {publish_new_rows_from: <model>}` is published by its new
    rows only (publish_new_rows), so a daily run does not rewrite millions of unchanged
    feature rows (per-asset watermarks beside the source say what was published); it is
    copied whole the first time and whenever its columns changed.
#}
{% macro publish_marts(quarantined=[]) %}
    {{ return(adapter.dispatch('publish_marts', 'market_elt')(quarantined)) }}
{% endmacro %}

{% macro default__publish_marts(quarantined=[]) %}
    {%- set quarantined = quarantined | map('int') | list -%}
    {%- set statements = [publish_lock()] -%}
    {%- set published_names = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model'
        and node.config.schema == 'audit'
        and node.config.materialized in ('table', 'incremental', 'view') -%}
        {%- set built = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- if built is not none -%}
            {%- set published = api.Relation.create(database=target.database, schema=target.schema, identifier=node.alias) -%}
            {%- set existing = adapter.get_relation(database=target.database, schema=target.schema, identifier=node.alias) -%}
            {%- set columns = adapter.get_columns_in_relation(built) | map(attribute='name') | list -%}
            {%- set same_columns = existing is not none and existing.type == 'table'
                and (adapter.get_columns_in_relation(existing) | map(attribute='name') | list) == columns -%}
            {%- set source_name = (node.config.meta or {}).get('publish_new_rows_from') -%}
            {%- if source_name -%}
                {%- set date_column = (node.config.meta or {}).get('publish_date_column', 'date') -%}
                {%- set market_wide = (node.config.meta or {}).get('publish_market_wide_rows', false) -%}
                {%- do statements.extend(publish_new_rows(built, existing, published, source_name, same_columns, quarantined, date_column, market_wide)) -%}
            {%- elif quarantined and 'asset_id' in columns -%}
                {%- do statements.extend(publish_keeping(built, existing, published, same_columns, quarantined)) -%}
            {%- else -%}
                {%- do statements.extend(publish_copy(built, existing, published)) -%}
            {%- endif -%}
            {%- do published_names.append(node.alias) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do adapter.create_schema(api.Relation.create(database=target.database, schema=target.schema)) -%}
    {%- do run_query('begin;\n' ~ statements | reject('equalto', '') | join(';\n') ~ ';\ncommit;') -%}
    {{ log('published to ' ~ target.schema ~ ': ' ~ published_names | sort | join(', ')
        ~ (' (held back: assets ' ~ quarantined | join(', ') ~ ')' if quarantined else ''), info=true) }}
{% endmacro %}

{#- SQL keeping the quarantined assets out of a selection (market-wide rows have no asset) -#}
{% macro publish_not_quarantined(quarantined, column='asset_id') -%}
    {%- if quarantined -%}
        ({{ column }} is null or {{ column }} not in ({{ quarantined | join(', ') }}))
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- the whole mart, replacing the published one -#}
{% macro publish_copy(built, existing, published) %}
    {%- set statements = [] -%}
    {%- if existing is not none -%}
        {%- do statements.append('drop ' ~ existing.type ~ ' if exists ' ~ published ~ ' cascade') -%}
    {%- endif -%}
    {%- do statements.append('create table ' ~ published ~ ' as select * from ' ~ built) -%}
    {{ return(statements) }}
{% endmacro %}

{#- every asset's rows but the quarantined ones', whose published rows stay as they were -#}
{% macro publish_keeping(built, existing, published, same_columns, quarantined) %}
    {%- set keep = publish_not_quarantined(quarantined) -%}
    {%- if same_columns -%}
        {{ return([
            'delete from ' ~ published ~ ' where ' ~ keep,
            'insert into ' ~ published ~ ' select * from ' ~ built ~ ' where ' ~ keep,
        ]) }}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- if existing is not none -%}
        {%- do statements.append('drop ' ~ existing.type ~ ' if exists ' ~ published ~ ' cascade') -%}
    {%- endif -%}
    {%- do statements.append('create table ' ~ published ~ ' as select * from ' ~ built ~ ' where ' ~ keep) -%}
    {{ return(statements) }}
{% endmacro %}

{#
    Statements publishing `built` (keyed by asset_id and `date_column`: the mart's
    `meta: {publish_date_column: ...}`, default date) from the rows of its incremental
    source model that no earlier publish took. Each source row carries `computed_at` (when the
    dbt invocation that wrote it started); a small table beside the source
    (publish_watermarks_relation) keeps, per asset, the `computed_at` published last. An
    asset's pending rows are those computed after that: its published rows from the first
    pending date on are replaced by the built ones, all of them when no stored row of the asset
    precedes its pending ones (recomputed in full). An asset with a watermark and no row left
    in the source (it left the universe) loses its published rows. Quarantined assets are left
    pending, so the next clean run publishes them. `market_wide`: rows without an asset are
    kept under their own watermark (publish_asset_key). Without a published table, a watermark
    table, or with changed columns: a copy. The delete is a join (`using`), as in
    bars_delete_recomputed.
#}
{% macro publish_new_rows(built, existing, published, source_name, same_columns, quarantined, date_column='date', market_wide=false) %}
    {%- set source = model_relation(source_name) -%}
    {%- set watermarks = publish_watermarks_relation(source) -%}
    {%- set watermarks_exist = adapter.get_relation(database=watermarks.database, schema=watermarks.schema, identifier=watermarks.identifier) is not none
        and 'published_through' in (adapter.get_columns_in_relation(watermarks) | map(attribute='name') | list) -%}
    {%- set pending = api.Relation.create(identifier=source.identifier ~ '_pending', type='table') -%}
    {%- set statements = [] -%}
    {%- if watermarks_exist and same_columns -%}
        {%- do statements.append('drop table if exists ' ~ pending) -%}
        {%- do statements.append(
            'create temporary table ' ~ pending ~ ' as'
            ~ ' with new_rows as (select ' ~ publish_asset_key('source', market_wide) ~ ' as asset_id,'
            ~ ' min(source.' ~ date_column ~ ') as first_date, max(source.computed_at) as published_through'
            ~ ' from ' ~ source ~ ' as source left join ' ~ watermarks ~ ' as watermarks'
            ~ ' on ' ~ publish_asset_key('source', market_wide) ~ ' = watermarks.asset_id'
            ~ ' where (watermarks.published_through is null or source.computed_at > watermarks.published_through)'
            ~ ' and ' ~ publish_not_quarantined(quarantined, 'source.asset_id')
            ~ ' group by ' ~ publish_asset_key('source', market_wide) ~ ')'
            ~ ' select new_rows.asset_id, case when exists (select 1 from ' ~ source ~ ' as earlier'
            ~ ' where ' ~ publish_asset_key('earlier', market_wide) ~ ' = new_rows.asset_id'
            ~ ' and earlier.' ~ date_column ~ ' < new_rows.first_date)'
            ~ " then new_rows.first_date else cast('0001-01-01' as date) end as from_date, new_rows.published_through"
            ~ ' from new_rows'
            ~ ' union all'
            ~ " select watermarks.asset_id, cast('0001-01-01' as date) as from_date, cast(null as timestamp) as published_through"
            ~ ' from ' ~ watermarks ~ ' as watermarks where not exists (select 1 from ' ~ source ~ ' as source'
            ~ ' where ' ~ publish_asset_key('source', market_wide) ~ ' = watermarks.asset_id)'
            ~ ' and ' ~ publish_not_quarantined(quarantined, 'watermarks.asset_id')) -%}
        {%- do statements.append(
            'delete from ' ~ published ~ ' using ' ~ pending ~ ' as pending'
            ~ ' where pending.asset_id = ' ~ publish_asset_key(published, market_wide)
            ~ ' and ' ~ published ~ '.' ~ date_column ~ ' >= pending.from_date') -%}
        {%- do statements.append(
            'insert into ' ~ published ~ ' select built.* from ' ~ built ~ ' as built inner join ' ~ pending ~ ' as pending'
            ~ ' on ' ~ publish_asset_key('built', market_wide) ~ ' = pending.asset_id'
            ~ ' and built.' ~ date_column ~ ' >= pending.from_date') -%}
        {%- do statements.append(
            'delete from ' ~ watermarks ~ ' where asset_id in (select asset_id from ' ~ pending ~ ')') -%}
        {%- do statements.append(
            'insert into ' ~ watermarks ~ ' select asset_id, published_through from ' ~ pending
            ~ ' where published_through is not null') -%}
        {%- do statements.append('drop table ' ~ pending) -%}
    {%- else -%}
        {%- do statements.extend(publish_keeping(built, existing, published, false, quarantined)) -%}
        {%- do statements.append(publish_index(published, ['asset_id', date_column])) -%}
        {%- do statements.append('drop table if exists ' ~ watermarks) -%}
        {%- do statements.append(
            'create table ' ~ watermarks ~ ' as select ' ~ publish_asset_key('source', market_wide) ~ ' as asset_id,'
            ~ ' max(source.computed_at) as published_through'
            ~ ' from ' ~ source ~ ' as source where ' ~ publish_not_quarantined(quarantined, 'source.asset_id')
            ~ ' group by ' ~ publish_asset_key('source', market_wide)) -%}
    {%- endif -%}
    {{ return(statements) }}
{% endmacro %}

{#-
    The key publish watermarks are kept by: the asset_id of rows aliased `alias`, or, for a mart
    with market-wide rows (meta `publish_market_wide_rows`: observations), -1 for those (NULL
    asset_id), so they are published by new rows too.
-#}
{% macro publish_asset_key(alias, market_wide=false) -%}
    {{- 'coalesce(' ~ alias ~ '.asset_id, -1)' if market_wide else alias ~ '.asset_id' -}}
{%- endmacro %}

{#-
    The index a mart published by new rows is later deleted from and inserted into by: on
    Postgres a b-tree on (asset_id, date), so the next publish replaces an asset's newest rows by
    an index range instead of scanning the published table; nothing on DuckDB (zone maps).
-#}
{% macro publish_index(published, columns) -%}
    {{ return(adapter.dispatch('publish_index', 'market_elt')(published, columns)) }}
{%- endmacro %}

{% macro default__publish_index(published, columns) -%}
    create index on {{ published }} ({{ columns | join(', ') }})
{%- endmacro %}

{% macro duckdb__publish_index(published, columns) -%}
{%- endmacro %}

{#- One publish at a time: Postgres takes a transaction-level advisory lock; DuckDB has one writer anyway. -#}
{% macro publish_lock() -%}
    {{ return(adapter.dispatch('publish_lock', 'market_elt')()) }}
{%- endmacro %}

{% macro default__publish_lock() -%}
    select pg_advisory_xact_lock(hashtext('market_elt.publish_marts'))
{%- endmacro %}

{% macro duckdb__publish_lock() -%}
{%- endmacro %}

{#- Where the publish watermarks of an incremental `source` model live: `<source>_published` beside it -#}
{% macro publish_watermarks_relation(source) -%}
    {{ return(api.Relation.create(database=source.database, schema=source.schema, identifier=source.identifier ~ '_published')) }}
{%- endmacro %}

{#-
    The publish watermarks of model `source_name` (per asset, the last `computed_at` published),
    or none before the first publish or on a full refresh (then every row is unpublished).
-#}
{% macro publish_watermarks(source_name) -%}
    {%- set source = stored_relation(source_name) -%}
    {%- if source is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set watermarks = publish_watermarks_relation(source) -%}
    {{ return(adapter.get_relation(database=watermarks.database, schema=watermarks.schema, identifier=watermarks.identifier)) }}
{%- endmacro %}
