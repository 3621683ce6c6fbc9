{#
    A 64-bit hash of one bar's inputs to the features (date, high, low, close, volume). XORed
    over an asset's bars (bit_xor: exact, order-free, one 64-bit word) it fingerprints the
    asset's history, so a restated history (split, late correction) is detected and recomputed
    in full. The date is hashed too, so no two bars of an asset cancel out.
#}
{% macro features_row_hash(date, high, low, close, volume) -%}
    {{ return(adapter.dispatch('features_row_hash', 'market_elt')(date, high, low, close, volume)) }}
{%- endmacro %}

{#- Postgres: nested hashfloat8extended(), each seeded by the next. A missing value (a bar without
    volume) hashes as NaN, which no provider value can be (parsing rejects it), not to NULL: the
    fingerprint still covers the row. -#}
{% macro default__features_row_hash(date, high, low, close, volume) -%}
    {%- set nan = "cast('NaN' as double precision)" -%}
    hashfloat8extended(
        coalesce({{ close }}, {{ nan }}),
        hashfloat8extended(
            coalesce({{ high }}, {{ nan }}),
            hashfloat8extended(
                coalesce({{ low }}, {{ nan }}),
                hashfloat8extended(coalesce({{ volume }}, {{ nan }}), cast({{ date }} - date '1970-01-01' as bigint))
            )
        )
    )
{%- endmacro %}

{% macro duckdb__features_row_hash(date, high, low, close, volume) -%}
    hash({{ date }}, {{ high }}, {{ low }}, {{ close }}, {{ volume }})
{%- endmacro %}

{#- The type of a fingerprint (a row hash, and the XOR of row hashes). -#}
{% macro features_fingerprint_type() -%}
    {{ return(adapter.dispatch('features_fingerprint_type', 'market_elt')()) }}
{%- endmacro %}

{% macro default__features_fingerprint_type() -%}
    bigint
{%- endmacro %}

{% macro duckdb__features_fingerprint_type() -%}
    ubigint
{%- endmacro %}

{#- XOR of two fingerprints. -#}
{% macro features_fingerprint_combine(a, b) -%}
    {{ return(adapter.dispatch('features_fingerprint_combine', 'market_elt')(a, b)) }}
{%- endmacro %}

{% macro default__features_fingerprint_combine(a, b) -%}
    ({{ a }} # {{ b }})
{%- endmacro %}

{% macro duckdb__features_fingerprint_combine(a, b) -%}
    xor({{ a }}, {{ b }})
{%- endmacro %}

{#- Spark: xxhash64 of the bar's inputs (NULLs are skipped by the hash, the date keeps bars apart). -#}
{% macro spark__features_row_hash(date, high, low, close, volume) -%}
    xxhash64({{ date }}, {{ high }}, {{ low }}, {{ close }}, coalesce({{ volume }}, cast('NaN' as double)))
{%- endmacro %}

{% macro spark__features_fingerprint_type() -%}
    bigint
{%- endmacro %}

{% macro spark__features_fingerprint_combine(a, b) -%}
    ({{ a }} ^ {{ b }})
{%- endmacro %}
