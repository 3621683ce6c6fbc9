{#
    The project's SQL names types as DuckDB and Postgres do (`double precision`, `text`,
    `timestamptz`); Spark SQL parses none of them. Rather than a type macro in every cast of
    every model, each statement dbt sends to Spark passes through engine_sql(), which renames
    those types (whole words only) to Spark's: double, string, timestamp (Spark's timestamp is
    an instant in the session's time zone, UTC here, like timestamptz). Other targets: the SQL
    unchanged. The overrides below are dbt-spark's own table and view macros, translated.
#}
{% macro engine_sql(sql) -%}
    {{ return(adapter.dispatch('engine_sql', 'market_elt')(sql)) }}
{%- endmacro %}

{% macro default__engine_sql(sql) -%}
    {{ return(sql) }}
{%- endmacro %}

{% macro spark__engine_sql(sql) -%}
    {%- set renamed = modules.re.sub('(?i)\\bdouble precision\\b', 'double', sql) -%}
    {%- set renamed = modules.re.sub('(?i)\\btimestamp with time zone\\b|\\btimestamptz\\b', 'timestamp', renamed) -%}
    {%- set renamed = modules.re.sub('(?i)(?:(?<=\\bas )|(?<=::))text\\b', 'string', renamed) -%}
    {{ return(renamed) }}
{%- endmacro %}

{% macro spark__create_table_as(temporary, relation, compiled_code, language='sql') -%}
    {{ return(dbt.spark__create_table_as(temporary, relation, engine_sql(compiled_code), language)) }}
{%- endmacro %}

{% macro spark__create_view_as(relation, sql) -%}
    {{ return(dbt.spark__create_view_as(relation, engine_sql(sql))) }}
{%- endmacro %}

{#- a contract's column types, as the yml names them, checked against the model's on Spark -#}
{% macro spark__get_empty_schema_sql(columns) -%}
    {{ return(engine_sql(dbt.default__get_empty_schema_sql(columns))) }}
{%- endmacro %}

{#- a unit test's SQL (its fixtures cast to the model's column types) through engine_sql -#}
{% macro spark__get_unit_test_sql(main_sql, expected_fixture_sql, expected_column_names) -%}
    {{ return(engine_sql(dbt.default__get_unit_test_sql(main_sql, expected_fixture_sql, expected_column_names))) }}
{%- endmacro %}
