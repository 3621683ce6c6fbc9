{#
    Pre-hook of the feature models: Postgres's JIT compiler spends seconds compiling the
    models' large expressions (hundreds of terms) for little gain, so it is off for the
    model's transaction. Nothing on DuckDB.
#}
{% macro features_session_settings() -%}
    {{ return(adapter.dispatch('features_session_settings', 'market_elt')()) }}
{%- endmacro %}

{% macro default__features_session_settings() -%}
    set local jit = off
{%- endmacro %}

{% macro duckdb__features_session_settings() -%}
{%- endmacro %}
