{#- The ISO day of the week of a date, Monday 1 to Sunday 7. -#}
{% macro iso_weekday(date) -%}
    {{ return(adapter.dispatch('iso_weekday', 'market_elt')(date)) }}
{%- endmacro %}

{% macro default__iso_weekday(date) -%}
    extract(isodow from {{ date }})
{%- endmacro %}

{% macro spark__iso_weekday(date) -%}
    extract(dayofweek_iso from {{ date }})
{%- endmacro %}
