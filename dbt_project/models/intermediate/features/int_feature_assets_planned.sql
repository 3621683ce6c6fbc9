{#
    Per asset with stored features: is its stored history unchanged (the same row count and
    fingerprint up to the last stored bar as its bars now), how many new bars it has, and the
    state its last stored bar keeps (row, dates, fingerprint, context start, volume series).
    int_feature_bars_batched continues the unchanged ones and recomputes the others in full.
    Empty without stored features (a full build).
#}
-- depends_on: {{ ref('int_feature_bars_hashed') }}
{{ config(materialized='ephemeral') }}

{%- set previous = features_previous_relation() %}

{% if previous is not none -%}

with

bars as (

    select * from {{ ref('int_feature_bars_hashed') }}

),

{#-
    Each run's last row per asset keeps its state (state_history_hash is set there only):
    reading those rows, not the whole stored table, and keeping each asset's latest.
#}

stored_state_rows as (

    select * from {{ previous }}
    where state_history_hash is not null

),

stored_last_dates as (

    select
        asset_id,
        max(date) as last_date

    from stored_state_rows
    group by asset_id

),

stored_states as (

    select stored_state_rows.*

    from stored_state_rows
    inner join stored_last_dates
        on
            stored_state_rows.asset_id = stored_last_dates.asset_id
            and stored_state_rows.date = stored_last_dates.last_date

),

history_checks as (

    select
        stored_states.asset_id,
        count(case when bars.date <= stored_states.date then 1 end) as n_stored_rows,
        bit_xor(case when bars.date <= stored_states.date then bars.row_hash end) as history_hash,
        count(case when bars.date > stored_states.date then 1 end) as n_new_rows

    from stored_states
    inner join bars
        on stored_states.asset_id = bars.asset_id
    group by stored_states.asset_id

),

{#- per stored asset: is its history unchanged (same row count and fingerprint), and are there new bars #}

plans as (

    select
        stored_states.asset_id,
        stored_states.rn,
        stored_states.date,
        stored_states.first_date,
        stored_states.state_history_hash,
        stored_states.state_context_start,
        stored_states.state_volume_start_rn,
        stored_states.state_volume_poisoned,
        history_checks.n_new_rows,
        coalesce(
            history_checks.n_stored_rows = stored_states.rn + 1
            and history_checks.history_hash = stored_states.state_history_hash,
            false
        ) as is_unchanged

    from stored_states
    inner join history_checks
        on stored_states.asset_id = history_checks.asset_id

)

select * from plans

{%- else %}

select
    cast(null as integer) as asset_id,
    cast(null as bigint) as rn,
    cast(null as date) as date,
    cast(null as date) as first_date,
    cast(null as {{ features_fingerprint_type() }}) as state_history_hash,
    cast(null as date) as state_context_start,
    cast(null as bigint) as state_volume_start_rn,
    cast(null as boolean) as state_volume_poisoned,
    cast(null as bigint) as n_new_rows,
    cast(null as boolean) as is_unchanged
where false

{%- endif %}
