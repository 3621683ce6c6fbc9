{#
    Every feature of features.md for the batch's new bars, plus the state a later run
    continues from (state_*, rn, first_date; the fingerprint and context start on each
    asset's last bar). Incremental (append): an incremental run appends the new bars of
    continued assets; assets recomputed in full lose their stored rows first (pre-hook).
    Published as the `daily_features` view, which adds the row-local features.

    Window features are computed over the batch (new bars plus their context) from explicit
    lag() expressions, never from order-dependent floating-point frame aggregates, so a
    continued run matches a full rebuild bit for bit. Rolling sums are written out as sums
    of lag() terms in a fixed order (a 10-row sum, then sums of lagged 10-row sums): the
    engines add a frame's values in an order that depends on where the partition starts,
    and an incremental run's partition starts later than a full build's.

    Cost notes (7.3M bars on DuckDB): each lag() costs about as much as the next, wherever
    its value is used, so every lag is shared or built from a partial result of an earlier
    pass; columns are listed, not `*`, so only what later steps use stays in the window
    buffers; no column that can be derived from the same row is stored.
#}
-- depends_on: {{ ref('daily_bars') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        indexes=features_indexes(['asset_id', 'date'], ['asset_id', 'rn']),
        pre_hook=[
            "{{ features_session_settings() }}",
            "{{ features_written_join_order(ref('int_feature_bars_batched')) }}",
            "{{ features_delete_recomputed(ref('int_feature_bars_batched')) }}",
        ],
        post_hook=["{{ features_default_join_order() }}", "{{ features_analyze(this) }}"],
    )
}}

{%- set state_columns = features_state_columns() %}
{%- set d = 'double precision' %}
{#-
    SMA 50/200 (now and 5 rows back, for the slopes): the first row they are defined on, the
    row offsets of the 10-row close sums they add (in this order) and the divisor.
-#}
{%- set moving_averages = {
    'sma_50': (49, range(0, 50, 10) | list, 50),
    'sma_200': (199, range(0, 200, 10) | list, 200),
    'sma_50_lag_5': (54, range(5, 50, 10) | list, 50),
    'sma_200_lag_5': (204, range(5, 200, 10) | list, 200),
} %}
{#- the columns every step passes on unchanged -#}
{%- set kept -%}
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
        volume_start_rn,
        volume_rn,
        volume_poisoned,
        history_hash,
        context_start,
{%- endset %}
{#- pass 1 results every later step passes on to the final select -#}
{%- set pass_one_results -%}
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
{%- endset %}
{#- pass 1 partial results that window pass 2 lags -#}
{%- set pass_two_inputs -%}
        volume_sum_10,
        positive_money_flow_7,
        negative_money_flow_7,
        highest_high_10,
        lowest_low_10,
{%- endset %}

with

feature_bars_batched as (

    select * from {{ ref('int_feature_bars_batched') }}

),

feature_states_recursed as (

    select * from {{ ref('int_feature_states_recursed') }}

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

{#- Window pass 1: the last 19 rows of each input (the raw values of the 20-row dispersions), extremes. #}

lagged as (

    select
        {{ kept }}
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
        max(high) over (asset_rows range between 364 preceding and current row) as highest_high_52w,
        min(low) over (asset_rows range between 364 preceding and current row) as lowest_low_52w

    from money_flows
    window asset_rows as (partition by asset_id order by day_number)

),

summed as (

    select
        {{ kept }}
        {{ pass_one_results }}
        {{ pass_two_inputs }}
        close {% for lag in range(1, 10) %} + close_lag_{{ lag }}{% endfor %} as close_sum_10,
        case when rn >= 19 then (
            close {% for lag in range(1, 20) %} + close_lag_{{ lag }}{% endfor %}
        ) / 20 end as sma_20,
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

),

{#- Two-pass dispersions around the window means; only the results go on. #}

dispersions as (

    select
        {{ kept }}
        {{ pass_one_results }}
        {{ pass_two_inputs }}
        close_sum_10,
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

    from summed
    {{ features_fence() }}

),

{#- Window pass 2: SMA 50/200 from lagged 10-row sums, 20-row extremes, 14-row flows, fast %K's last rows. #}

relagged as (

    select
        {{ kept }}
        {{ pass_one_results }}
        sma_20,
        typical_price_mean_20,
        close_variance_20,
        typical_price_mean_deviation_20,
        log_return_variance_20,
        close_sum_10,
        {%- for name, (first_rn, offsets, n) in moving_averages.items() %}
        case when rn >= {{ first_rn }} then (
            {% for offset in offsets -%}
            {{ ' + ' if not loop.first }}{{ 'close_sum_10' if offset == 0 else 'lag(close_sum_10, ' ~ offset ~ ') over asset_rows' }}
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

),

{%- if is_incremental() %}

{#-
    A continued asset's batch holds only the 20 rows before its new bars that its short
    windows need (the deepest lag chain: a 10-row sum lagged 11 rows; the 20th log return),
    so its new bars' longer windows are read from stored rows instead, each giving the full
    build's bits: the 52-week extremes from daily_bars (max and min are exact), the close 60
    rows back, and SMA 50/200 from the stored 10-row close sums at the same row offsets,
    added in the same order. Each join writes its small side last: that is the hash join's
    build side (features_written_join_order).
#}

continued_extremes_52w as (

    select
        new_bars.asset_id,
        new_bars.date,
        max(cast(daily_bars.high as {{ d }})) as highest_high_52w,
        min(cast(daily_bars.low as {{ d }})) as lowest_low_52w

    from {{ ref('daily_bars') }} as daily_bars
    inner join feature_bars_batched as new_bars
        on
            daily_bars.asset_id = new_bars.asset_id
            and daily_bars.date between new_bars.date - 364 and new_bars.date
    where new_bars.is_new and not new_bars.is_full_history
    group by new_bars.asset_id, new_bars.date

),

continued_new_sums as (

    select
        asset_id,
        date,
        rn,
        close,
        close_sum_10

    from dispersions
    where is_new and not is_full_history

),

{#-
    The rows each new bar reads: 5, 10, ..., 195 rows back, by equi-joins on (asset_id, rn),
    not a range join (Postgres probes its (asset_id, rn) index, DuckDB hashes the few keys).
#}

lookup_rows as (

    select
        continued_new_sums.asset_id,
        continued_new_sums.date,
        continued_new_sums.rn - offsets.rows_back as rn,
        offsets.rows_back

    from continued_new_sums
    cross join (
        values {% for offset in range(5, 200, 5) %}({{ offset }}){{ ', ' if not loop.last }}{% endfor %}
    ) as offsets (rows_back)

),

{#- from the stored rows or, in a catch-up of several days, from this run's new rows #}

looked_up as (

    select
        lookup_rows.asset_id,
        lookup_rows.date,
        lookup_rows.rows_back,
        stored.close,
        stored.close_sum_10

    from {{ this }} as stored
    inner join lookup_rows
        on
            stored.asset_id = lookup_rows.asset_id
            and stored.rn = lookup_rows.rn

    union all

    select
        lookup_rows.asset_id,
        lookup_rows.date,
        lookup_rows.rows_back,
        continued_new_sums.close,
        continued_new_sums.close_sum_10

    from continued_new_sums
    inner join lookup_rows
        on
            continued_new_sums.asset_id = lookup_rows.asset_id
            and continued_new_sums.rn = lookup_rows.rn

),

continued_close_sums as (

    select
        continued_new_sums.asset_id,
        continued_new_sums.date,
        continued_new_sums.rn,
        continued_new_sums.close_sum_10,
        max(case when looked_up.rows_back = 60 then looked_up.close end) as close_lag_60,
        {%- for offset in range(5, 200, 5) %}
        max(case when looked_up.rows_back = {{ offset }} then looked_up.close_sum_10 end)
            as close_sum_10_back_{{ offset }}{{ ',' if not loop.last }}
        {%- endfor %}

    from continued_new_sums
    left join looked_up
        on
            continued_new_sums.asset_id = looked_up.asset_id
            and continued_new_sums.date = looked_up.date
    group by
        continued_new_sums.asset_id,
        continued_new_sums.date,
        continued_new_sums.rn,
        continued_new_sums.close_sum_10

),

continued_long_windows as (

    select
        asset_id,
        date,
        close_lag_60,
        {%- for name, (first_rn, offsets, n) in moving_averages.items() %}
        case when rn >= {{ first_rn }} then (
            {% for offset in offsets -%}
            {{ ' + ' if not loop.first }}{{ 'close_sum_10' if offset == 0 else 'close_sum_10_back_' ~ offset }}
            {%- endfor %}
        ) / {{ n }} end as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}

    from continued_close_sums

),

{%- endif %}

{#- the recursions' state of every new bar (and the state row of a continued asset, dropped here) #}

joined as (

    select
        bands.*,
        {%- if is_incremental() %}
        coalesce(continued_extremes_52w.highest_high_52w, bands.highest_high_52w) as highest_high_52w_resolved,
        coalesce(continued_extremes_52w.lowest_low_52w, bands.lowest_low_52w) as lowest_low_52w_resolved,
        case
            when bands.is_full_history then bands.close_lag_60 else continued_long_windows.close_lag_60
        end as close_lag_60_resolved,
        {%- for name in moving_averages %}
        case
            when bands.is_full_history then bands.{{ name }} else continued_long_windows.{{ name }}
        end as {{ name }}_resolved,
        {%- endfor %}
        {%- else %}
        bands.highest_high_52w as highest_high_52w_resolved,
        bands.lowest_low_52w as lowest_low_52w_resolved,
        bands.close_lag_60 as close_lag_60_resolved,
        {%- for name in moving_averages %}
        bands.{{ name }} as {{ name }}_resolved,
        {%- endfor %}
        {%- endif %}
        {%- for column in state_columns %}
        feature_states_recursed.{{ column }} as state_{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}

    from bands
    inner join feature_states_recursed
        on
            bands.asset_id = feature_states_recursed.asset_id
            and bands.rn = feature_states_recursed.rn
    {%- if is_incremental() %}
    left join continued_extremes_52w
        on
            bands.asset_id = continued_extremes_52w.asset_id
            and bands.date = continued_extremes_52w.date
    left join continued_long_windows
        on
            bands.asset_id = continued_long_windows.asset_id
            and bands.date = continued_long_windows.date
    {%- endif %}

),

final as (

    select
        asset_id,
        date,
        {#- inputs of the row-local features the daily_features view derives #}
        close,
        volume,
        sma_20,
        sma_50_resolved as sma_50,
        sma_200_resolved as sma_200,
        case when rn >= 11 then state_e12 end as ema_12,
        case when rn >= 25 then state_e26 end as ema_26,
        case
            when rn >= 14 and abs(state_gain + state_loss) < {{ features_epsilon() }} then cast(0 as {{ d }})
            when rn >= 14 then 100 * (state_gain / (state_gain + state_loss))
        end as rsi_14,
        case when rn >= 33 then state_fast - state_e26 end as macd,
        case when rn >= 33 then state_sig end as macd_signal,
        case when rn >= 14 then state_atr end as atr_14,
        bb_upper,
        bb_lower,
        case when rn >= 10 then (close / close_lag_10 - 1) * 100 end as roc_10,
        case when rn >= 1 then close / previous_close - 1 end as return_1d,
        case when rn >= 5 then close / close_lag_5 - 1 end as return_5d,
        case when rn >= 20 then close / close_lag_20 - 1 end as return_20d,
        case when rn >= 60 then close / close_lag_60_resolved - 1 end as return_60d,
        log_return_1d,
        sqrt(log_return_variance_20) * sqrt(
            case asset_type when 'crypto' then cast(365 as {{ d }}) when 'equity' then cast(252 as {{ d }}) end
        ) as realized_vol_20,
        case
            when volume_rn >= 20 and not volume_poisoned then volume / (nullif(volume_sum_prior_20, 0) / 20)
        end as rvol_20,
        sma_50_resolved / sma_50_lag_5_resolved - 1 as sma_50_slope,
        sma_200_resolved / sma_200_lag_5_resolved - 1 as sma_200_slope,
        case
            when rn >= 13 and {{ features_is_tie('highest_high_14', 'lowest_low_14') }} then cast(0 as {{ d }})
            when rn >= 13 then (highest_high_14 - close) / ((highest_high_14 - lowest_low_14) / cast(-100 as {{ d }}))
        end as willr_14,
        case
            when
                rn >= 19
                and (
                    abs(typical_price - typical_price_mean_20) <= {{ features_epsilon() }} * abs(typical_price_mean_20)
                    or typical_price_mean_deviation_20 <= {{ features_epsilon() }} * abs(typical_price_mean_20)
                )
                then cast(0 as {{ d }})
            when rn >= 19
                then (typical_price - typical_price_mean_20) / (cast(0.015 as {{ d }}) * typical_price_mean_deviation_20)
        end as cci_20,
        case when rn >= 17 then slow_k end as stoch_k,
        slow_d as stoch_d,
        case
            when coalesce(volume_rn < 14, true) or volume_poisoned then null
            when positive_money_flow_14 + negative_money_flow_14 = 0 then cast(0 as {{ d }})
            else 100 * (positive_money_flow_14 / (positive_money_flow_14 + negative_money_flow_14))
        end as mfi_14,
        state_obv as obv,
        case when rn >= 27 then state_adx end as adx_14,
        case when rn >= 19 then highest_high_20 end as donchian_high_20,
        case when rn >= 19 then lowest_low_20 end as donchian_low_20,
        case when first_date <= date - 364 then highest_high_52w_resolved end as high_52w,
        case when first_date <= date - 364 then lowest_low_52w_resolved end as low_52w,
        close / state_max_close - 1 as drawdown,
        {#- state for the next incremental run #}
        close_sum_10,
        rn,
        first_date,
        {#- the recursive state is kept on each asset's last bar only: the next run starts there #}
        {%- for column in state_columns %}
        case when history_hash is not null then state_{{ column }} end as state_{{ column }},
        {%- endfor %}
        history_hash as state_history_hash,
        context_start as state_context_start,
        case when history_hash is not null then volume_start_rn end as state_volume_start_rn,
        case when history_hash is not null then volume_poisoned end as state_volume_poisoned,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as computed_at

    from joined
    {#- filtered after the join: before it, DuckDB would build its hash table from the wide side #}
    where is_new

)

select * from final
