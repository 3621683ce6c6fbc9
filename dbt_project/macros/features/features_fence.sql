{#
    An optimisation fence ending a CTE's select of the window units (whose rows have asset_id
    and day_number). Postgres otherwise flattens the CTE and re-evaluates its expressions
    wherever they are used (in every lag() that reads them, and once per use of a mean inside
    a 20-term variance); an ordered subquery is not flattened, so its rows are computed once,
    streamed, never written out. The order is the window passes' own (asset_id, day_number):
    the rows already come in it (no sort), and the planner knows it, so the next window pass
    does not sort them again (`offset 0`, the usual fence, hid the order: Postgres re-sorted
    every row between the two passes). Nothing on DuckDB.
#}
{% macro features_fence() -%}
    {{ return(adapter.dispatch('features_fence', 'market_elt')()) }}
{%- endmacro %}

{% macro default__features_fence() -%}
    order by asset_id, day_number
{%- endmacro %}

{% macro duckdb__features_fence() -%}
{%- endmacro %}

{% macro spark__features_fence() -%}
{%- endmacro %}
