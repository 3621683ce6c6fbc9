{#
    A 64-bit hash of one bar's inputs to the features (date, high, low, close, volume). Summed
    per asset (exactly: hugeint on DuckDB, numeric on Postgres) it fingerprints the asset's
    history, so a restated history (split, late correction) is detected and recomputed in full.
#}
{% macro features_row_hash(date, high, low, close, volume) -%}
    {{ return(adapter.dispatch('features_row_hash', 'market_elt')(date, high, low, close, volume)) }}
{%- endmacro %}

{% macro default__features_row_hash(date, high, low, close, volume) -%}
    hashfloat8extended(
        {{ close }},
        hashfloat8extended(
            {{ high }},
            hashfloat8extended(
                {{ low }},
                hashfloat8extended({{ volume }}, cast({{ date }} - date '1970-01-01' as bigint))
            )
        )
    )
{%- endmacro %}

{% macro duckdb__features_row_hash(date, high, low, close, volume) -%}
    hash({{ date }}, {{ high }}, {{ low }}, {{ close }}, {{ volume }})
{%- endmacro %}

{#- The exact type of a per-asset sum of row hashes. -#}
{% macro features_fingerprint_type() -%}
    {{ return(adapter.dispatch('features_fingerprint_type', 'market_elt')()) }}
{%- endmacro %}

{% macro default__features_fingerprint_type() -%}
    numeric
{%- endmacro %}

{% macro duckdb__features_fingerprint_type() -%}
    hugeint
{%- endmacro %}
