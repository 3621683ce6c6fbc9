{#
    Window pass 1 of daily_features over the batch (new bars plus the context their windows
    need): per-row inputs (typical price, log return, money flows), the last 19 rows of each
    input as lag() columns, 10-, 14- and 20-row sums and extremes, fast %K.

    Why lag() terms and not window frames: rolling sums are written out as sums of lag() terms
    in a fixed order, never as order-dependent floating-point frame aggregates. The engines add
    a frame's values in an order that depends on where the partition starts, and an incremental
    run's partition starts later than a full build's: only fixed-order sums give the same bits.
    Each lag() costs about as much as the next, so every lag is shared or built from a partial
    result of an earlier pass.
#}
{{ config(materialized='ephemeral') }}

{%- set d = 'double precision' %}

with

feature_bars_batched as (

    select * from {{ ref('int_feature_bars_batched') }}

),

row_inputs as (

    select
        *,
        date - date '1970-01-01' as day_number,
        (high + low + close) / 3 as typical_price,
        (previous_high + previous_low + previous_close) / 3 as previous_typical_price,
        case when rn > 0 then ln(close / previous_close) end as log_return_1d

    from feature_bars_batched

),

money_flows as (

    select
        *,
        {#- TA-Lib's MFI counts a typical price within ~90 ulp of the previous one as unchanged. #}
        case
            when
                volume_rn > 0
                and typical_price > previous_typical_price
                and not {{ features_is_tie('typical_price', 'previous_typical_price') }}
                then typical_price * volume
            else cast(0 as {{ d }})
        end as positive_money_flow,
        case
            when
                volume_rn > 0
                and typical_price < previous_typical_price
                and not {{ features_is_tie('typical_price', 'previous_typical_price') }}
                then typical_price * volume
            else cast(0 as {{ d }})
        end as negative_money_flow

    from row_inputs
    {{ features_fence() }}

),

{#- what the 52-week extremes read in pass 1 (features_extremes_52w: engine-specific) #}

extremes_prepared as (

    {{ features_extremes_52w_prepared('money_flows') }}

),

{#- Window pass 1: the last 19 rows of each input (the raw values of the 20-row dispersions), extremes. #}

lagged as (

    select
        {{ features_kept_columns() }}
        typical_price,
        log_return_1d,
        {%- for lag in range(1, 20) %}
        lag(close, {{ lag }}) over asset_rows as close_lag_{{ lag }},
        lag(typical_price, {{ lag }}) over asset_rows as typical_price_lag_{{ lag }},
        lag(log_return_1d, {{ lag }}) over asset_rows as log_return_lag_{{ lag }},
        {%- endfor %}
        lag(close, 20) over asset_rows as close_lag_20,
        lag(close, 60) over asset_rows as close_lag_60,
        volume {% for lag in range(1, 10) %} + lag(volume, {{ lag }}) over asset_rows{% endfor %} as volume_sum_10,
        positive_money_flow {% for lag in range(1, 7) %} + lag(positive_money_flow, {{ lag }}) over asset_rows{% endfor %}
            as positive_money_flow_7,
        negative_money_flow {% for lag in range(1, 7) %} + lag(negative_money_flow, {{ lag }}) over asset_rows{% endfor %}
            as negative_money_flow_7,
        greatest(high {%- for lag in range(1, 14) %}, lag(high, {{ lag }}) over asset_rows{% endfor %}) as highest_high_14,
        least(low {%- for lag in range(1, 14) %}, lag(low, {{ lag }}) over asset_rows{% endfor %}) as lowest_low_14,
        {#- 10-row extremes; pass 2 pairs each with its value 10 rows back #}
        greatest(high {%- for lag in range(1, 10) %}, lag(high, {{ lag }}) over asset_rows{% endfor %}) as highest_high_10,
        least(low {%- for lag in range(1, 10) %}, lag(low, {{ lag }}) over asset_rows{% endfor %}) as lowest_low_10,
        {{ features_extremes_52w() }}

    from extremes_prepared
    window asset_rows as (partition by asset_id order by day_number)

),

summed as (

    select
        {{ features_kept_columns() }}
        {{ features_pass_one_results() }}
        {{ features_pass_two_inputs() }}
        close {% for lag in range(1, 10) %} + close_lag_{{ lag }}{% endfor %} as close_sum_10,
        {#- sma_20's numerator (its first ten terms are close_sum_10, added in the same order) #}
        close {% for lag in range(1, 20) %} + close_lag_{{ lag }}{% endfor %} as close_sum_20,
        case when rn >= 19 then (
            typical_price {% for lag in range(1, 20) %} + typical_price_lag_{{ lag }}{% endfor %}
        ) / 20 end as typical_price_mean_20,
        case when rn >= 20 then (
            log_return_1d {% for lag in range(1, 20) %} + log_return_lag_{{ lag }}{% endfor %}
        ) / 20 end as log_return_mean_20,
        case
            when rn >= 13 and {{ features_is_tie('highest_high_14', 'lowest_low_14') }} then cast(0 as {{ d }})
            when rn >= 13 then (close - lowest_low_14) / ((highest_high_14 - lowest_low_14) / 100)
        end as fast_k,
        {%- for lag in range(1, 20) %}
        {%- if lag not in (5, 10) %}
        close_lag_{{ lag }},
        {%- endif %}
        typical_price_lag_{{ lag }},
        log_return_lag_{{ lag }}{{ ',' if not loop.last }}
        {%- endfor %}

    from lagged
    {{ features_fence() }}

)

{# ordered: window pass 2 reads the rows in its order (features_fence) #}
select * from summed
{{ features_fence() }}
