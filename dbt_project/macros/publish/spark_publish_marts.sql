{#
    publish_marts on Spark, whose Parquet tables have neither transactions nor DELETE: each
    audited mart is first written whole beside its published table (`<mart>__publishing`:
    the built rows, all but the quarantined assets', plus those assets' rows as last
    published), and only when every mart is written are the published tables swapped for them
    (drop, rename), one mart after the other. A failure while writing leaves every published
    mart as it was; readers see a mart missing only between its drop and its rename. Every
    Spark build is a full one, so the marts published by new rows elsewhere
    (`publish_new_rows_from`) are copied whole here.
#}
{% macro spark__publish_marts(quarantined=[]) %}
    {%- set quarantined = quarantined | map('int') | list -%}
    {%- set swaps = [] -%}
    {%- do run_query('create database if not exists ' ~ target.schema) -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model'
        and node.config.schema == 'audit'
        and node.config.materialized in ('table', 'incremental', 'view') -%}
        {%- set built = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- if built is not none -%}
            {%- set published = api.Relation.create(schema=target.schema, identifier=node.alias, type='table') -%}
            {%- set next = api.Relation.create(schema=target.schema, identifier=node.alias ~ '__publishing', type='table') -%}
            {%- set existing = adapter.get_relation(database=none, schema=target.schema, identifier=node.alias) -%}
            {%- set columns = adapter.get_columns_in_relation(built) | map(attribute='name') | list -%}
            {%- set keeps_quarantined = quarantined and 'asset_id' in columns and existing is not none
                and (adapter.get_columns_in_relation(existing) | map(attribute='name') | list) == columns -%}
            {%- do run_query('drop table if exists ' ~ next) -%}
            {%- set rows -%}
                select * from {{ built }} where {{ publish_not_quarantined(quarantined if 'asset_id' in columns else []) }}
                {%- if keeps_quarantined %}
                union all
                select * from {{ existing }} where not {{ publish_not_quarantined(quarantined) }}
                {%- endif %}
            {%- endset -%}
            {%- do run_query('create table ' ~ next ~ ' using parquet as ' ~ rows) -%}
            {%- do swaps.append((existing, next, published)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for existing, next, published in swaps -%}
        {%- if existing is not none -%}
            {%- do run_query('drop ' ~ existing.type ~ ' if exists ' ~ published) -%}
        {%- endif -%}
        {%- do run_query('alter table ' ~ next ~ ' rename to ' ~ published) -%}
    {%- endfor -%}
    {{ log('published to ' ~ target.schema ~ ': ' ~ swaps | map(attribute=2) | map(attribute='identifier') | sort | join(', ')
        ~ (' (held back: assets ' ~ quarantined | join(', ') ~ ')' if quarantined else ''), info=true) }}
{% endmacro %}
