{#
    TA-Lib's zero tests (ta_utility.h, TA-Lib >= 0.6): TA_EPSILON = 1e-14;
    TA_IS_ZERO_SCALED(a - b, |a| + |b|) treats two prices within ~90 ulp of each other as
    equal (a flat window, an unchanged typical price), whatever their magnitude.
#}
{% macro features_epsilon() -%}
    cast(0.00000000000001 as double precision)
{%- endmacro %}

{% macro features_is_tie(a, b) -%}
    (abs({{ a }} - {{ b }}) <= {{ features_epsilon() }} * (abs({{ a }}) + abs({{ b }})))
{%- endmacro %}
