{#
    The `indexes` config of the feature tables: Postgres needs (asset_id, rn) / (asset_id, date)
    b-trees for the recursive step's lookups and the incremental run's reads and deletes;
    DuckDB gets none (its zone maps do that job, an ART index only costs time and memory).
#}
{% macro features_indexes() -%}
    {{ return(adapter.dispatch('features_indexes', 'market_elt')(varargs)) }}
{%- endmacro %}

{#- one b-tree per list of columns given -#}
{% macro default__features_indexes(column_lists) -%}
    {%- set indexes = [] -%}
    {%- for columns in column_lists -%}
        {%- do indexes.append({'columns': columns}) -%}
    {%- endfor -%}
    {{ return(indexes) }}
{%- endmacro %}

{% macro duckdb__features_indexes(column_lists) -%}
    {{ return([]) }}
{%- endmacro %}

{% macro spark__features_indexes(column_lists) -%}
    {{ return([]) }}
{%- endmacro %}
