{#
    The SQL of int_feature_states_recursed (its header says what it computes): DuckDB's and
    Postgres's recursive CTEs, Spark's aggregate() over each asset's bars.
#}
{% macro features_states_recursed() -%}
    {{ return(adapter.dispatch('features_states_recursed', 'market_elt')()) }}
{%- endmacro %}

{% macro default__features_states_recursed() -%}
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
{%- endmacro %}

{#-
    Spark: each asset's bars collected in row order and folded by aggregate(), whose lambda is
    the recursive step (features_recursive_expressions with seeding, so every row takes its
    phase's branch): `states` holds every state so far, `prev` is its last, `cur` the bar,
    `step` the states advanced by the bar before sig and adx read them. Exact: the same
    floating-point operations in the same order as the recursive CTEs. Appending to the array
    copies it, so an asset costs O(rows^2) copies of a 15-field state (3,650 rows: ~6.7M, a
    fraction of a second); assets run in parallel across the cluster. Every Spark build is a
    full one (dbt_project.yml), so there is no stored state to continue from.
-#}
{% macro spark__features_states_recursed() -%}
    {%- set state_columns = features_state_columns() -%}
    {%- set expression = features_recursive_expressions(seeding=true) -%}
    {%- set inputs = ['rn', 'close', 'volume', 'volume_rn', 'close_change', 'true_range', 'plus_dm', 'minus_dm'] -%}
    {%- set advanced = ['e12', 'e26', 'fast', 'gain', 'loss', 'atr', 'pdm', 'mdm', 'trs', 'obv', 'max_close'] %}

with

bars_in_order as (

    select
        asset_id,
        array_sort(collect_list(named_struct(
            {%- for column in inputs %}
            '{{ column }}', {{ 'cast(rn as bigint)' if column == 'rn' else 'cast(' ~ column ~ ' as double)' }}{{ ',' if not loop.last }}
            {%- endfor %}
        ))) as bars

    from {{ ref('int_feature_bars_batched') }}
    group by asset_id

),

folded as (

    select
        asset_id,
        aggregate(
            bars,
            {#- cast to a type of nullable fields: with the literal's NOT NULL fields Spark
                would store a NULL state (OBV without volume) as 0 #}
            cast(array(named_struct(
                'rn', cast(-1 as bigint),
                {%- for column in state_columns %}
                '{{ column }}', cast(0 as double){{ ',' if not loop.last }}
                {%- endfor %}
            )) as array<struct<rn: bigint, {{ state_columns | join(': double, ') }}: double>>),
            (states, cur) -> concat(states, array(
                transform(array(element_at(states, -1)), prev ->
                    transform(array(named_struct(
                        'rn', cur.rn,
                        {%- for column in advanced %}
                        '{{ column }}', cast({{ expression[column] }} as double),
                        {%- endfor %}
                        'previous_sig', prev.sig,
                        'previous_adx', prev.adx
                    )), step -> named_struct(
                        'rn', step.rn,
                        {%- for column in state_columns %}
                        {%- if column in ('sig', 'adx') %}
                        '{{ column }}', cast({{ expression[column] }} as double){{ ',' if not loop.last }}
                        {%- else %}
                        '{{ column }}', step.{{ column }}{{ ',' if not loop.last }}
                        {%- endif %}
                        {%- endfor %}
                    ))[0]
                )[0]
            ))
        ) as states

    from bars_in_order

),

final as (

    select
        asset_id,
        inline(slice(states, 2, size(states) - 1))

    from folded

)

select * from final
{%- endmacro %}
