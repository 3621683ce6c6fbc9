{#
    Post-hook: fresh planner statistics for a table just written (Postgres plans the next
    step's joins from them: a plan table of 2,000 rows taken for an unanalysed default plans
    whole-table hash joins where an index lookup per asset was cheaper). Nothing on DuckDB,
    which keeps its statistics as it writes.
#}
{% macro analyze_relation(relation) -%}
    {{ return(adapter.dispatch('analyze_relation', 'market_elt')(relation)) }}
{%- endmacro %}

{% macro default__analyze_relation(relation) -%}
    analyze {{ relation }}
{%- endmacro %}

{% macro duckdb__analyze_relation(relation) -%}
{%- endmacro %}

{#- Spark: statistics are not needed by the plans here (no index, no cost-based joins). -#}
{% macro spark__analyze_relation(relation) -%}
{%- endmacro %}
