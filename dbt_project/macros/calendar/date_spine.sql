{#
    Every day from `start` to `end` (inclusive) as a `date` column. generate_series over
    timestamps is a table function on both DuckDB and Postgres; other engines override.
#}
{% macro date_spine(start, end) %}
    {{ return(adapter.dispatch('date_spine', 'market_elt')(start, end)) }}
{% endmacro %}

{% macro default__date_spine(start, end) %}
    select cast(generate_series as date) as date
    from generate_series(
        cast('{{ start }}' as timestamp),
        cast('{{ end }}' as timestamp),
        interval '1 day'
    )
{% endmacro %}

{#- Spark: sequence() of dates, exploded. -#}
{% macro spark__date_spine(start, end) %}
    select explode(sequence(cast('{{ start }}' as date), cast('{{ end }}' as date), interval 1 day)) as date
{% endmacro %}
