{#
    The stored features (int_daily_features_computed) from the previous run, or none when
    there are none or a full refresh was asked for: then every asset is computed in full.
    Looked up by name, not ref(), because the stored table is this run's output too.

    A table without a column the continued path reads (features_continued_columns: written by
    an earlier version, whose moving averages added other sums) counts as none too: every asset
    is then recomputed in full by this version's formulas, its stored rows replaced
    (features_delete_recomputed adds the missing columns first).
#}
{% macro features_previous_relation() -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = model_relation('int_daily_features_computed') -%}
    {%- if relation is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set stored = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- for column in features_continued_columns() if column not in stored -%}
        {{ return(none) }}
    {%- endfor -%}
    {{ return(relation) }}
{%- endmacro %}

{#- the stored columns an incremental run reads from earlier runs' rows, with their types -#}
{% macro features_continued_columns() -%}
    {{ return({
        'rn': 'bigint',
        'close': 'double precision',
        'close_sum_10': 'double precision',
        'close_sum_20': 'double precision',
        'state_history_hash': features_fingerprint_type(),
        'state_context_start': 'date',
    }) }}
{%- endmacro %}
