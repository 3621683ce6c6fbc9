{#
    on-run-start: planner statistics for the `raw` tables dlt created or changed much since they
    were last analysed, on Postgres. The models read raw through views, so Postgres plans them
    from raw's statistics; a table dlt has just created has none until autovacuum gets to it, and
    Postgres then takes it for a few thousand rows: int_equity_bars_adjusted's join of 87,600
    sessions to their next corporate action ran as a nested loop over 124 million row pairs
    (60 s, against 0.6 s with statistics). Runs before the commands that build models. Nothing
    on DuckDB, which keeps its statistics as it writes, nor on Spark.
#}
{% macro analyze_raw() -%}
    {{ return(adapter.dispatch('analyze_raw', 'market_elt')()) }}
{%- endmacro %}

{% macro default__analyze_raw() -%}
{%- endmacro %}

{% macro postgres__analyze_raw() -%}
    {%- if not execute or flags.WHICH not in ('run', 'build') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set stale -%}
        select relname
        from pg_stat_user_tables
        where
            schemaname = 'raw'
            and (
                coalesce(last_analyze, last_autoanalyze) is null
                or n_mod_since_analyze > 0.1 * greatest(n_live_tup, 1)
            )
    {%- endset -%}
    {%- for row in run_query(stale).rows -%}
        {%- do run_query('analyze raw.' ~ adapter.quote(row[0])) -%}
    {%- endfor -%}
{%- endmacro %}
