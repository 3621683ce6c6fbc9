{#
    Post-hook: refresh planner statistics of a freshly built relation (Postgres plans the
    recursive step and the incremental run's lookups from them: right after a full build,
    before autovacuum analysed the table, it planned the lookups as whole-table scans;
    docs/features-performance.md). Nothing to do on DuckDB.
#}
{% macro features_analyze(relation) -%}
    {{ return(adapter.dispatch('features_analyze', 'market_elt')(relation)) }}
{%- endmacro %}

{% macro default__features_analyze(relation) -%}
    analyze {{ relation }}
{%- endmacro %}

{% macro duckdb__features_analyze(relation) -%}
{%- endmacro %}

{% macro spark__features_analyze(relation) -%}
{%- endmacro %}
