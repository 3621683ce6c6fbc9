{#
    Pre-hook of the feature models (the batch and the stored features), and the post-hook that
    undoes it on engines where a setting outlives the model (after the commit, which writes
    what the insert has not written yet).

    Postgres: its JIT compiler spends seconds compiling the models' large expressions (hundreds
    of terms) for little gain, so it is off for the model's transaction (`set local`: nothing
    to undo).
    DuckDB: the tables' doubles are stored uncompressed. The engine's compression analysis of
    ALP and ALP-RD on these mostly random doubles cost ~30% of writing the 7.3M-row stored table
    (~8 of ~29 CPU-s, bench/features.py) for ~15% of disk, and the recursion's scans of the batch
    decompress nothing. Integers, dates, constants and NULL runs are still compressed; the
    published daily_features (publish_marts, after the post-hook) keeps the default.
#}
{% macro features_session_settings() -%}
    {{ return(adapter.dispatch('features_session_settings', 'market_elt')()) }}
{%- endmacro %}

{% macro default__features_session_settings() -%}
    set local jit = off
{%- endmacro %}

{% macro duckdb__features_session_settings() -%}
    set disabled_compression_methods = 'alp,alprd'
{%- endmacro %}

{% macro features_default_session_settings() -%}
    {{ return(adapter.dispatch('features_default_session_settings', 'market_elt')()) }}
{%- endmacro %}

{% macro default__features_default_session_settings() -%}
{%- endmacro %}

{% macro duckdb__features_default_session_settings() -%}
    reset disabled_compression_methods
{%- endmacro %}

{% macro spark__features_session_settings() -%}
{%- endmacro %}

{% macro spark__features_default_session_settings() -%}
{%- endmacro %}
