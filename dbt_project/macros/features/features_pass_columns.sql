{#
    The column lists the window units of daily_features pass from one to the next
    (int_feature_windows_lagged -> int_feature_windows_relagged -> int_daily_features_computed):
    written once here, so a unit cannot drop a column the next one reads. Columns are listed,
    not `*`: only what later steps use stays in the engines' window buffers.
#}

{#- the columns every step passes on unchanged -#}
{% macro features_kept_columns() -%}
        asset_id,
        date,
        day_number,
        rn,
        is_new,
        is_full_history,
        first_date,
        asset_type,
        close,
        volume,
        previous_close,
        volume_rn,
        state_volume_start_rn,
        state_volume_poisoned,
        history_hash,
        context_start,
{%- endmacro %}

{#- window pass 1 results every later step passes on to the final select -#}
{% macro features_pass_one_results() -%}
        close_lag_5,
        close_lag_10,
        close_lag_20,
        close_lag_60,
        log_return_1d,
        typical_price,
        highest_high_14,
        lowest_low_14,
        highest_high_52w,
        lowest_low_52w,
{%- endmacro %}

{#- window pass 1 partial results that window pass 2 lags -#}
{% macro features_pass_two_inputs() -%}
        volume_sum_10,
        positive_money_flow_7,
        negative_money_flow_7,
        highest_high_10,
        lowest_low_10,
{%- endmacro %}

{#-
    SMA 50/200 (now and 5 rows back, for the slopes): the first row each is defined on, the
    rolling close sums it adds, in this order, as (column, rows back), and the divisor. The
    20-row sums (close_sum_20, the numerator of sma_20) halve the terms of 10-row ones. The full
    build lags the batch's sums; a continued asset reads the stored ones at the same offsets.
-#}
{% macro features_moving_averages() -%}
    {%- set sums_200 = [] -%}
    {%- set sums_200_lag_5 = [] -%}
    {%- for back in range(0, 200, 20) -%}
        {%- do sums_200.append(('close_sum_20', back)) -%}
        {%- do sums_200_lag_5.append(('close_sum_20', back + 5)) -%}
    {%- endfor -%}
    {{ return({
        'sma_50': (49, [('close_sum_20', 0), ('close_sum_20', 20), ('close_sum_10', 40)], 50),
        'sma_200': (199, sums_200, 200),
        'sma_50_lag_5': (54, [('close_sum_20', 5), ('close_sum_20', 25), ('close_sum_10', 45)], 50),
        'sma_200_lag_5': (204, sums_200_lag_5, 200),
    }) }}
{%- endmacro %}
