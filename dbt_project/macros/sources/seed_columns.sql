{#
    The lower-cased column names of a built seed (or any relation), so a model can default the
    optional columns of an analyst's file that lacks them. Empty while parsing.
#}
{% macro seed_columns(relation) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list) }}
{%- endmacro %}
