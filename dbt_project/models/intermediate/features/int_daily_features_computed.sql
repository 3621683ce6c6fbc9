{#
    Every feature of features.md for the batch's new bars, plus the state a later run
    continues from (state_*, rn, first_date; the fingerprint, context start and volume series
    state on each asset's last bar). Incremental (append): an incremental run appends the new
    bars of continued assets; assets recomputed in full lose their stored rows first
    (pre-hook). Published as the `daily_features` view, which adds the row-local features.

    The pipeline, one unit per file: int_feature_bars_batched (which bars, numbered, with the
    recursions' per-bar inputs) -> int_feature_states_recursed (EMA, Wilder, MACD, ADX, OBV,
    running max: one recursive step per row, features_recursive_step) and
    int_feature_windows_lagged -> int_feature_windows_relagged (window features in two lag
    passes) and int_feature_windows_continued (long windows of continued assets from stored
    rows) -> this model: each new bar's windows and recursive state, made into features.
    No column that can be derived from the same row is stored.
#}
-- depends_on: {{ ref('int_daily_bars') }}
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
        post_hook=[
            "{{ features_default_join_order() }}",
            "{{ analyze_relation(this) }}",
            {'sql': "{{ features_default_session_settings() }}", 'transaction': false},
        ],
    )
}}

{%- set state_columns = features_state_columns() %}
{%- set moving_averages = features_moving_averages() %}
{%- set d = 'double precision' %}

with

bands as (

    select * from {{ ref('int_feature_windows_relagged') }}

),

continued as (

    select * from {{ ref('int_feature_windows_continued') }}

),

feature_states_recursed as (

    select * from {{ ref('int_feature_states_recursed') }}

),

{#- the recursions' state of every new bar (and the state row of a continued asset, dropped here) #}

joined as (

    select
        bands.*,
        coalesce(continued.highest_high_52w, bands.highest_high_52w) as highest_high_52w_resolved,
        coalesce(continued.lowest_low_52w, bands.lowest_low_52w) as lowest_low_52w_resolved,
        case when bands.is_full_history then bands.close_lag_60 else continued.close_lag_60 end as close_lag_60_resolved,
        {%- for name in moving_averages %}
        case when bands.is_full_history then bands.{{ name }} else continued.{{ name }} end as {{ name }}_resolved,
        {%- endfor %}
        {%- for column in state_columns %}
        feature_states_recursed.{{ column }} as state_{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}

    from bands
    inner join feature_states_recursed
        on
            bands.asset_id = feature_states_recursed.asset_id
            and bands.rn = feature_states_recursed.rn
    left join continued
        on
            bands.asset_id = continued.asset_id
            and bands.date = continued.date

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
            when volume_rn >= 20 then volume / (nullif(volume_sum_prior_20, 0) / 20)
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
            when coalesce(volume_rn < 14, true) then null
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
        close_sum_20,
        rn,
        first_date,
        {#- the recursive state is kept on each asset's last bar only: the next run starts there #}
        {%- for column in state_columns %}
        case when history_hash is not null then state_{{ column }} end as state_{{ column }},
        {%- endfor %}
        history_hash as state_history_hash,
        context_start as state_context_start,
        state_volume_start_rn,
        state_volume_poisoned,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as computed_at

    from joined
    {#- filtered after the join: before it, DuckDB would build its hash table from the wide side #}
    where is_new

)

select * from final
