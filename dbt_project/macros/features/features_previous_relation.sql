{#
    The stored features (int_daily_features_computed) from the previous run, or none when
    there are none or a full refresh was asked for: then every asset is computed in full.
    Looked up by name, not ref(), because the stored table is this run's output too.
#}
{% macro features_previous_relation() -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(model_relation('int_daily_features_computed')) }}
{%- endmacro %}
