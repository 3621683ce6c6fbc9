{#
    dbt's test materialization, storing failures only where there are some. dbt's own creates
    each test's failures view (`store_failures_as: view`) and counts from it, passing or not:
    a drop, a create and a commit per test, most of a daily run's test time on a small day.
    Here the count runs first, on the test's query, and only a test that finds rows (fails or
    warns) keeps them as its view in `audit_failures`, where the gate reads them
    (flows/gate.py); a passing test's view from an earlier run is dropped, so every view there
    is a current failure. Counting, limits, thresholds and severities are dbt's.
#}
{%- materialization test, default -%}

    {%- set limit = config.get('limit') -%}
    {%- set sql_with_limit = get_limit_subquery_sql(sql, limit) -%}

    {%- call statement('main', fetch_result=True) -%}
        {{ get_test_sql(sql_with_limit, config.get('fail_calc'), config.get('warn_if'), config.get('error_if'), limit=none) }}
    {%- endcall -%}

    {%- set relations = [] -%}
    {%- if should_store_failures() -%}
        {%- set failures = load_result('main')['data'][0][0] -%}
        {%- set old_relation = adapter.get_relation(database=database, schema=schema, identifier=model['alias']) -%}
        {%- if old_relation is not none -%}
            {%- do adapter.drop_relation(old_relation) -%}
        {%- endif -%}
        {%- if failures and failures > 0 -%}
            {%- set target_relation = api.Relation.create(
                identifier=model['alias'], schema=schema, database=database, type=config.get('store_failures_as') or 'table') -%}
            {%- call statement(auto_begin=True) -%}
                {{ get_create_sql(target_relation, sql_with_limit) }}
            {%- endcall -%}
            {%- do relations.append(target_relation) -%}
            {{ adapter.commit() }}
        {%- endif -%}
    {%- endif -%}

    {{ return({'relations': relations}) }}

{%- endmaterialization -%}
