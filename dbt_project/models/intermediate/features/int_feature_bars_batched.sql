{#
    The bars this run computes features for, numbered by their row in the asset's history
    (rn, 0-based), with the per-bar inputs of the recursions.

    Full build (no stored features, or --full-refresh): every bar of every asset.
    Incremental: per asset, compare the stored history fingerprint (XOR of row hashes, and the
    row count, up to the last stored bar) with int_daily_bars (int_feature_assets_planned).
      - unchanged, with new bars: the new bars (is_new) plus the 20 earlier bars the short
        lag() windows need (state_context_start; the 60-row return, SMA 50/200 and the 52-week
        extremes are read from stored rows by int_feature_windows_continued); the last stored
        bar is marked (is_state_row): the recursion starts from its stored state;
      - unchanged, no new bars: nothing;
      - changed (restated, shortened, backfilled) or never computed: the full history
        (is_full_history).
#}
-- depends_on: {{ ref('int_feature_assets_planned') }}
{{
    config(
        materialized='table',
        indexes=features_indexes(['asset_id', 'rn']),
        pre_hook=["{{ features_session_settings() }}"],
        post_hook=[
            "{{ analyze_relation(this) }}",
            {'sql': "{{ features_default_session_settings() }}", 'transaction': false},
        ],
    )
}}

{%- set previous = features_previous_relation() %}

with

bars as (

    select * from {{ ref('int_feature_bars_hashed') }}

),

assets as (

    select * from {{ ref('dim_assets') }}

),

{% if previous is not none %}

plans as (

    select * from {{ ref('int_feature_assets_planned') }}

),

{#- one pass over the bars: a continued asset's new bars and context, every bar of the others #}

batch_bars as (

    select
        bars.*,
        coalesce(not plans.is_unchanged, true) as is_full_history,
        case when plans.is_unchanged then plans.rn end as base_rn,
        case when plans.is_unchanged then plans.date end as base_date,
        case when plans.is_unchanged then plans.first_date end as first_date,
        case
            when plans.is_unchanged then cast(plans.state_history_hash as {{ features_fingerprint_type() }})
        end as base_history_hash,
        coalesce(plans.is_unchanged and bars.date = plans.date, false) as is_state_row,
        case when plans.is_unchanged then plans.state_volume_start_rn end as base_volume_start_rn,
        case when plans.is_unchanged then plans.state_volume_poisoned end as base_volume_poisoned

    from bars
    left join plans
        on bars.asset_id = plans.asset_id
    where
        plans.asset_id is null
        or not plans.is_unchanged
        or (plans.n_new_rows > 0 and bars.date >= plans.state_context_start)

),

{% else %}

batch_bars as (

    select
        bars.*,
        true as is_full_history,
        cast(null as bigint) as base_rn,
        cast(null as date) as base_date,
        cast(null as date) as first_date,
        cast(null as {{ features_fingerprint_type() }}) as base_history_hash,
        false as is_state_row,
        cast(null as bigint) as base_volume_start_rn,
        cast(null as boolean) as base_volume_poisoned

    from bars

),

{% endif %}

{#-
    Where each asset's volume series starts in this batch (features.md, "Missing inputs"): its
    first new bar with a volume. An aggregate of the bars joined back by asset, not a second
    window pass over the batch.
#}

volume_starts as (

    select
        daily_bars.asset_id,
        min(daily_bars.date) as volume_start_date

    from {{ ref('int_daily_bars') }} as daily_bars
    {%- if previous is not none %}
    left join plans
        on daily_bars.asset_id = plans.asset_id
    {%- endif %}
    where
        daily_bars.volume is not null
        {%- if previous is not none %}
        and (plans.asset_id is null or not plans.is_unchanged or daily_bars.date > plans.date)
        {%- endif %}
    group by daily_bars.asset_id

),

{#- the asset type (annualisation of realized_vol) and the volume series' start, for the batch's bars only #}

batched as (

    select
        batch_bars.*,
        assets.asset_type,
        volume_starts.volume_start_date

    from batch_bars
    left join assets
        on batch_bars.asset_id = assets.asset_id
    left join volume_starts
        on batch_bars.asset_id = volume_starts.asset_id

),

numbered as (

    {#- One window pass (per asset, in date order) numbers the rows and reads the neighbours. #}
    select
        *,
        {%- if previous is none %}
        row_number() over asset_rows - 1 as rn,
        {%- else %}
        case
            when is_full_history then row_number() over asset_rows - 1
            else
                base_rn
                - count(case when date <= base_date then 1 end) over whole_history
                + row_number() over asset_rows
        end as rn,
        {%- endif %}
        is_full_history or date > base_date as is_new,
        lag(close) over asset_rows as previous_close,
        lag(high) over asset_rows as previous_high,
        lag(low) over asset_rows as previous_low,
        lead(date) over asset_rows is null as is_last_row,
        {#- the fingerprint of the history up to the batch's last row: stored part and new rows #}
        {{ features_fingerprint_combine(
            'coalesce(base_history_hash, 0)',
            'bit_xor(case when is_full_history or date > base_date then row_hash end) over whole_history',
        ) }} as history_hash,
        {#-
            the context the next run's window passes need before its first new row: 20 rows
            (its deepest lag chain reaches 20 rows back from the first new bar; a context one row
            shorter fails tests/dbt/test_features.py)
        #}
        coalesce(lag(date, 19) over asset_rows, min(date) over whole_history) as context_start,
        coalesce(first_date, min(date) over whole_history) as asset_first_date,
        {#- the row volume's series starts on (a continued asset keeps its stored start): rows before its date #}
        {%- if previous is none %}
        case
            when volume_start_date is not null then count(case when date < volume_start_date then 1 end) over whole_history
        end as volume_start_rn,
        {%- else %}
        coalesce(
            base_volume_start_rn,
            case
                when volume_start_date is null then null
                when is_full_history then count(case when date < volume_start_date then 1 end) over whole_history
                else
                    base_rn
                    - count(case when date <= base_date then 1 end) over whole_history
                    + count(case when date <= volume_start_date then 1 end) over whole_history
            end
        ) as volume_start_rn,
        {%- endif %}
        {#- the first new bar without a volume after the series started: NULL from there on #}
        min(
            case
                when
                    (is_full_history or date > base_date)
                    and volume is null
                    and (base_volume_start_rn is not null or date > volume_start_date)
                    then date
            end
        ) over whole_history as first_poisoned_date

    from batched
    window
        asset_rows as (partition by asset_id order by date),
        whole_history as (partition by asset_id)

),

{#-
    Volume's own series (features.md, "Missing inputs"): it starts at the asset's first bar with
    a volume (a continued asset keeps its stored start), and a missing volume after that start
    makes the volume features (OBV, MFI, rvol) NULL from that bar on, as NaN does in TA-Lib:
    volume_rn is NULL there, and the asset's last bar keeps the series' state.
#}

final as (

    select
        asset_id,
        date,
        rn,
        is_new,
        is_full_history,
        is_state_row,
        asset_first_date as first_date,
        asset_type,
        high,
        low,
        close,
        volume,
        previous_close,
        previous_high,
        previous_low,
        {#- the row in volume's series; NULL before it starts and from its first missing volume on #}
        case
            when
                rn >= volume_start_rn
                and not coalesce(base_volume_poisoned, false)
                and (first_poisoned_date is null or date < first_poisoned_date)
                then rn - volume_start_rn
        end as volume_rn,
        case when is_last_row then volume_start_rn end as state_volume_start_rn,
        case
            when is_last_row then coalesce(base_volume_poisoned, false) or coalesce(first_poisoned_date <= date, false)
        end as state_volume_poisoned,
        case when is_last_row then history_hash end as history_hash,
        case when is_last_row then context_start end as context_start,
        case when rn > 0 then close - previous_close end as close_change,
        {#- TA-Lib's TRUE_RANGE: max(high - low, |high - prev close|, |low - prev close|) #}
        case
            when rn > 0 then greatest(high - low, abs(high - previous_close), abs(low - previous_close))
        end as true_range,
        case
            when rn > 0 and high - previous_high > 0 and high - previous_high > previous_low - low
                then high - previous_high
            when rn > 0 then cast(0 as double precision)
        end as plus_dm,
        case
            when rn > 0 and previous_low - low > 0 and high - previous_high < previous_low - low
                then previous_low - low
            when rn > 0 then cast(0 as double precision)
        end as minus_dm

    from numbered

)

select * from final
order by rn, asset_id
