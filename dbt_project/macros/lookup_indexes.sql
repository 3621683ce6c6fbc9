{#
    The `indexes` config of a table read by key in incremental runs (its pre-hook's delete of
    the recomputed rows, the lookups of the rows before them): a b-tree per list of columns on
    Postgres; none on DuckDB, whose zone maps do that job (an ART index only costs time and
    memory there).
#}
{% macro lookup_indexes() -%}
    {{ return(adapter.dispatch('lookup_indexes', 'market_elt')(varargs)) }}
{%- endmacro %}

{% macro default__lookup_indexes(column_lists) -%}
    {%- set indexes = [] -%}
    {%- for columns in column_lists -%}
        {%- do indexes.append({'columns': columns}) -%}
    {%- endfor -%}
    {{ return(indexes) }}
{%- endmacro %}

{% macro duckdb__lookup_indexes(column_lists) -%}
    {{ return([]) }}
{%- endmacro %}

{% macro spark__lookup_indexes(column_lists) -%}
    {{ return([]) }}
{%- endmacro %}
