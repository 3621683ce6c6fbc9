{#
    The combination of `columns` is unique. NULL keys compare equal (observations have a
    NULL asset_id for market-wide facts), which plain `unique` would let through.
#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
