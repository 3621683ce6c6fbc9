{#
    Post-hook: refresh planner statistics of a freshly built relation (Postgres plans the
    recursive step and the incremental run's lookups from them: an incremental run right after
    a full build, before autovacuum analysed the 7.3M-row table, took 27 s instead of ~5 s for
    the features model). ~0.4 s on Postgres; nothing to do on DuckDB.
#}
{% macro features_analyze(relation) -%}
    {{ return(adapter.dispatch('features_analyze', 'market_elt')(relation)) }}
{%- endmacro %}

{% macro default__features_analyze(relation) -%}
    analyze {{ relation }}
{%- endmacro %}

{% macro duckdb__features_analyze(relation) -%}
{%- endmacro %}
