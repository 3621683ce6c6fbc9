{#
    Window pass 2 of daily_features: the two-pass dispersions around the 20-row means
    (Bollinger's population variance, CCI's mean deviation, the realized volatility's sample
    variance), then the windows built from pass 1's partial results (SMA 50/200 from lagged
    10- and 20-row close sums, 20-row extremes from 10-row ones, 14-row money flows from 7-row ones,
    the slow stochastic from fast %K's last rows), then Bollinger bands and slow %K/%D.
#}
{{ config(materialized='ephemeral') }}

{%- set d = 'double precision' %}
{%- set moving_averages = features_moving_averages() %}

with

feature_windows_lagged as (

    select * from {{ ref('int_feature_windows_lagged') }}

),

means as (

    select
        *,
        case when rn >= 19 then close_sum_20 / 20 end as sma_20

    from feature_windows_lagged
    {{ features_fence() }}

),

dispersions as (

    select
        {{ features_kept_columns() }}
        {{ features_pass_one_results() }}
        {{ features_pass_two_inputs() }}
        close_sum_10,
        close_sum_20,
        sma_20,
        typical_price_mean_20,
        fast_k,
        {#- population variance of the last 20 closes around the SMA (BBANDS) #}
        (
            (close - sma_20) * (close - sma_20)
            {%- for lag in range(1, 20) %}
            + (close_lag_{{ lag }} - sma_20) * (close_lag_{{ lag }} - sma_20)
            {%- endfor %}
        ) / 20 as close_variance_20,
        {#- mean absolute deviation of the last 20 typical prices (CCI) #}
        (
            abs(typical_price - typical_price_mean_20)
            {%- for lag in range(1, 20) %}
            + abs(typical_price_lag_{{ lag }} - typical_price_mean_20)
            {%- endfor %}
        ) / 20 as typical_price_mean_deviation_20,
        {#- sample variance (ddof=1) of the last 20 log returns #}
        (
            (log_return_1d - log_return_mean_20) * (log_return_1d - log_return_mean_20)
            {%- for lag in range(1, 20) %}
            + (log_return_lag_{{ lag }} - log_return_mean_20) * (log_return_lag_{{ lag }} - log_return_mean_20)
            {%- endfor %}
        ) / 19 as log_return_variance_20

    from means
    {{ features_fence() }}

),

{#- Window pass 2: SMA 50/200 from lagged 10- and 20-row sums, 20-row extremes, 14-row flows, fast %K's last rows. #}

relagged as (

    select
        {{ features_kept_columns() }}
        {{ features_pass_one_results() }}
        sma_20,
        typical_price_mean_20,
        close_variance_20,
        typical_price_mean_deviation_20,
        log_return_variance_20,
        close_sum_10,
        close_sum_20,
        {%- for name, (first_rn, terms, n) in moving_averages.items() %}
        case when rn >= {{ first_rn }} then (
            {% for column, back in terms -%}
            {{ ' + ' if not loop.first }}{{ column if back == 0 else 'lag(' ~ column ~ ', ' ~ back ~ ') over asset_rows' }}
            {%- endfor %}
        ) / {{ n }} end as {{ name }},
        {%- endfor %}
        lag(volume_sum_10, 1) over asset_rows + lag(volume_sum_10, 11) over asset_rows as volume_sum_prior_20,
        positive_money_flow_7 + lag(positive_money_flow_7, 7) over asset_rows as positive_money_flow_14,
        negative_money_flow_7 + lag(negative_money_flow_7, 7) over asset_rows as negative_money_flow_14,
        greatest(highest_high_10, lag(highest_high_10, 10) over asset_rows) as highest_high_20,
        least(lowest_low_10, lag(lowest_low_10, 10) over asset_rows) as lowest_low_20,
        fast_k,
        {%- for lag in range(1, 5) %}
        lag(fast_k, {{ lag }}) over asset_rows as fast_k_lag_{{ lag }}{{ ',' if not loop.last }}
        {%- endfor %}

    from dispersions
    window asset_rows as (partition by asset_id order by day_number)

),

bands as (

    select
        *,
        sma_20 + 2 * sqrt(close_variance_20) as bb_upper,
        sma_20 - 2 * sqrt(close_variance_20) as bb_lower,
        {#- STOCH's slow %K (SMA 3 of fast %K) and slow %D (SMA 3 of slow %K), written out. #}
        case when rn >= 15 then (fast_k_lag_2 + fast_k_lag_1 + fast_k) / 3 end as slow_k,
        case when rn >= 17 then (
            (fast_k_lag_4 + fast_k_lag_3 + fast_k_lag_2) / 3
            + (fast_k_lag_3 + fast_k_lag_2 + fast_k_lag_1) / 3
            + (fast_k_lag_2 + fast_k_lag_1 + fast_k) / 3
        ) / 3 end as slow_d

    from relagged
    {{ features_fence() }}

)

select * from bands
