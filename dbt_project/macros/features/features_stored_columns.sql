{#
    The feature columns of the stored table (int_daily_features_computed), in its order, without
    what it keeps for the pipeline itself (keys, row numbers, inputs, state, computed_at): the
    daily_features view shows them all, so a feature added to the stored table needs no second edit.
#}
{% macro features_stored_columns(relation) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set internal = ['asset_id', 'date', 'rn', 'first_date', 'close', 'volume', 'close_sum_10', 'close_sum_20', 'computed_at'] -%}
    {%- set columns = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- set name = column.name | lower -%}
        {%- if name not in internal and not name.startswith('state_') -%}
            {%- do columns.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}
