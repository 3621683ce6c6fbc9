{#
    The "publish" of write-audit-publish: copy every mart built (and tested) in the `audit`
    schema to the target schema, where analysts and the runbook query them, in one
    transaction: readers see the previous good marts until the new ones are all in place.
    The flow calls it (`dbt run-operation publish_marts`) only after `dbt test` passed.
    Views in `audit` (daily_features reads the incremental feature state) are published as
    tables too: a view would show the next, unaudited build as soon as it is written.
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
            {%- if existing is not none -%}
                {%- do statements.append('drop ' ~ existing.type ~ ' if exists ' ~ published ~ ' cascade') -%}
            {%- endif -%}
            {%- do statements.append('create table ' ~ published ~ ' as select * from ' ~ built) -%}
            {%- do published_names.append(node.alias) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do adapter.create_schema(api.Relation.create(database=target.database, schema=target.schema)) -%}
    {%- do run_query('begin;\n' ~ statements | join(';\n') ~ ';\ncommit;') -%}
    {{ log('published to ' ~ target.schema ~ ': ' ~ published_names | sort | join(', '), info=true) }}
{% endmacro %}
