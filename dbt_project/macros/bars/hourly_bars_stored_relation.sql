{#
    The stored hourly bars (int_hourly_bars) from the previous run, or none when there are none
    or a full refresh was asked for: then every asset is computed from its first hour. Looked
    up by name, not ref(), because the stored table is this run's output too.
#}
{% macro hourly_bars_stored_relation() -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(model_relation('int_hourly_bars')) }}
{%- endmacro %}
