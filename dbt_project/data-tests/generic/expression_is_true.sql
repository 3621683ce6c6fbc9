{#
    Rows where `expression` is not true fail the test: false AND unknown (NULL). A NULL price
    makes "close > 0" unknown, and a gate that only caught false would let it through.
#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
