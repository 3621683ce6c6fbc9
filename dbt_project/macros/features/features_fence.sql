{#
    An optimisation fence ending a CTE's select: `offset 0` on Postgres, which otherwise
    flattens the CTE and re-evaluates its expressions wherever they are used (in every lag()
    that reads them, and once per use of a mean inside a 20-term variance); the CTE's rows are
    then computed once, streamed, never written out. Nothing on DuckDB.
#}
{% macro features_fence() -%}
    {{ return(adapter.dispatch('features_fence', 'market_elt')()) }}
{%- endmacro %}

{% macro default__features_fence() -%}
    offset 0
{%- endmacro %}

{% macro duckdb__features_fence() -%}
{%- endmacro %}
