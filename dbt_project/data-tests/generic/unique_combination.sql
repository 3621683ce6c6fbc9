{#
    The combination of `columns` is unique. NULL keys compare equal (observations have a
    NULL asset_id for market-wide facts), which plain `unique` would let through.
    `weekly: true` runs it in the check of everything only (`market-elt check --all`): for
    the views of every bar upstream of daily_bars, whose duplicates the daily run's scoped
    unique gate on daily_bars catches (int_bar_changes counts a day built twice as a change),
    so re-reading millions of rows through those views daily would only repeat it.
#}
{% test unique_combination(model, columns, weekly=false) %}

select
    {{ columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
{%- if weekly and not var('check_all', false) %}
where false
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
