{#
    The exact recursive features (EMA, MACD, Wilder's RSI/ATR/ADX smoothing, OBV, running max
    close) for every new bar of the batch: recursive CTEs walking all assets one row per
    step, from an empty state before row 0 (full histories) or from the stored state of the
    last computed bar (continued assets, read from the stored features). The step is
    features_recursive_step(), so a continued run repeats the full build's floating-point
    operations bit for bit.

    Two recursions: `seeded_states` takes each asset through the seed phases (rows up to
    features_seeded_row(), 34 steps), `smoothed_states` carries on from there with the
    smoothing alone (the same operations without the row-number branches: cheaper steps, and
    there are thousands of them). A continued asset enters where its stored state row is.

    The recursive terms read the batch table directly (not through an import CTE): DuckDB then
    prunes the scan to the next row number with the table's zone maps (the batch is stored
    ordered by rn), Postgres probes the (asset_id, rn) index.

    A view: its only reader, int_daily_features_computed, evaluates it once, and writing its
    7.3M rows to a table only to read them back cost more than the join they feed.
#}
{{ config(materialized='view') }}

{%- set state_columns = features_state_columns() %}
{%- set previous = features_previous_relation() %}
{%- set seeded_row = features_seeded_row() %}

with recursive

{% if previous is not none -%}
stored_states as (

    {#- each run's last row per asset keeps its state #}
    select * from {{ previous }}
    where state_history_hash is not null

),

{% endif -%}

{#- An empty state one row before each full history; the stored state of continued assets. #}

start_states as (

    select
        batch.asset_id,
        case when batch.is_full_history then batch.rn - 1 else batch.rn end as rn,
        {%- for column in state_columns %}
        {%- if previous is none %}
        cast(0 as double precision) as {{ column }}{{ ',' if not loop.last }}
        {%- else %}
        case when batch.is_full_history then cast(0 as double precision) else stored.state_{{ column }} end
            as {{ column }}{{ ',' if not loop.last }}
        {%- endif %}
        {%- endfor %}

    from {{ ref('int_feature_bars_batched') }} as batch
    {%- if previous is not none %}
    left join stored_states as stored
        on
            batch.asset_id = stored.asset_id
            and batch.date = stored.date
    {%- endif %}
    where
        (batch.is_full_history and batch.rn = 0)
        or batch.is_state_row

),

seeded_states (asset_id, rn, {{ state_columns | join(', ') }}) as (

    select * from start_states
    where rn < {{ seeded_row }}

    union all

    {{ features_recursive_step('seeded_states', ref('int_feature_bars_batched'), seeding=true) }}

),

smoothed_states (asset_id, rn, {{ state_columns | join(', ') }}) as (

    select * from seeded_states
    where rn = {{ seeded_row }}

    union all

    select * from start_states
    where rn >= {{ seeded_row }}

    union all

    {{ features_recursive_step('smoothed_states', ref('int_feature_bars_batched'), seeding=false) }}

),

final as (

    select * from seeded_states
    where rn >= 0

    union all

    select * from smoothed_states
    where rn > {{ seeded_row }}

)

select * from final
