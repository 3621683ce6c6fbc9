{#
    The `indexes` config of the feature tables: Postgres needs (asset_id, rn) / (asset_id, date)
    b-trees for the recursive step's lookups and the incremental run's reads and deletes;
    DuckDB gets none (its zone maps do that job, an ART index only costs time and memory).
#}
{% macro features_indexes(columns) -%}
    {{ return(adapter.dispatch('features_indexes', 'market_elt')(columns)) }}
{%- endmacro %}

{% macro default__features_indexes(columns) -%}
    {{ return([{'columns': columns}]) }}
{%- endmacro %}

{% macro duckdb__features_indexes(columns) -%}
    {{ return([]) }}
{%- endmacro %}
