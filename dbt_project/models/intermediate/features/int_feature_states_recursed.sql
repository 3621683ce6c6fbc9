{#
    The exact recursive features (EMA, MACD, Wilder's RSI/ATR/ADX smoothing, OBV, running max
    close) for every new bar of the batch: one recursive CTE walking all assets one row per
    step, from an empty state before row 0 (full histories) or from the stored state of the
    last computed bar (continued assets, read from the stored features). The step is
    features_recursive_step(), so a continued run repeats the full build's floating-point
    operations bit for bit.

    The recursive term reads the batch table directly (not through an import CTE): DuckDB then
    prunes the scan to the next row number with the table's zone maps (the batch is stored
    ordered by rn), Postgres probes the (asset_id, rn) index.

    A view: its only reader, int_daily_features_computed, evaluates it once, and writing its
    7.3M rows to a table only to read them back cost more than the join they feed.
#}
{{ config(materialized='view') }}

{%- set state_columns = features_state_columns() %}
{%- set previous = features_previous_relation() %}

with recursive

{% if previous is not none -%}
stored_states as (

    {#- each run's last row per asset keeps its state #}
    select * from {{ previous }}
    where state_history_hash is not null

),

{% endif -%}

states (asset_id, rn, {{ state_columns | join(', ') }}) as (

    {#- An empty state one row before each full history; the stored state of continued assets. #}
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

    union all

    {{ features_recursive_step('states', ref('int_feature_bars_batched')) }}

),

final as (

    select * from states
    where rn >= 0

)

select * from final
