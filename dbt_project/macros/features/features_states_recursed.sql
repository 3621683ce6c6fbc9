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
    phase's branch): `prev` is the state after the bar before, `cur` the bar, `step` the states
    advanced by the bar before sig and adx read them. Exact: the same floating-point operations
    in the same order as the recursive CTEs. Every state is kept, and appending to an array
    copies it, so the bars are folded in chunks of features_spark_chunk_rows(): each chunk from
    the state its predecessor ended on, into an array of its own; the asset's states are the
    chunks' appended (rows x chunk + rows^2 / chunk copies instead of rows^2 / 2: 30x fewer at
    3,650 rows). Every Spark build is a full one (dbt_project.yml): no stored state to continue.
-#}
{% macro spark__features_states_recursed() -%}
    {%- set state_columns = features_state_columns() -%}
    {%- set expression = features_recursive_expressions(seeding=true) -%}
    {%- set inputs = ['rn', 'close', 'volume', 'volume_rn', 'close_change', 'true_range', 'plus_dm', 'minus_dm'] -%}
    {%- set advanced = ['e12', 'e26', 'fast', 'gain', 'loss', 'atr', 'pdm', 'mdm', 'trs', 'obv', 'max_close'] -%}
    {%- set chunk = features_spark_chunk_rows() -%}
    {#- the state type, of nullable fields: with a literal's NOT NULL fields Spark would store a NULL state (OBV without volume) as 0 -#}
    {%- set state_type = 'struct<rn: bigint, ' ~ state_columns | join(': double, ') ~ ': double>' -%}
    {%- set step -%}
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
    {%- endset %}

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

chunked as (

    select
        asset_id,
        transform(
            sequence(0, cast(ceil(size(bars) / {{ chunk }}.0) as int) - 1),
            chunk_index -> slice(bars, chunk_index * {{ chunk }} + 1, {{ chunk }})
        ) as chunks

    from bars_in_order

),

folded as (

    select
        asset_id,
        aggregate(
            chunks,
            cast(array(named_struct(
                'rn', cast(-1 as bigint),
                {%- for column in state_columns %}
                '{{ column }}', cast(0 as double){{ ',' if not loop.last }}
                {%- endfor %}
            )) as array<{{ state_type }}>),
            (done, bars_of_chunk) -> concat(done, slice(
                aggregate(
                    bars_of_chunk,
                    array(element_at(done, -1)),
                    (states, cur) -> concat(states, array({{ step }}))
                ),
                2,
                size(bars_of_chunk)
            ))
        ) as states

    from chunked

),

final as (

    select
        asset_id,
        inline(slice(states, 2, size(states) - 1))

    from folded

)

select * from final
{%- endmacro %}

{#- Bars per chunk of Spark's fold: about the square root of a long history (3,650 rows), where its copies are fewest. -#}
{% macro features_spark_chunk_rows() -%}
    {{ return(64) }}
{%- endmacro %}
