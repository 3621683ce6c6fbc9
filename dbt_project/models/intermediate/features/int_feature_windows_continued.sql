{#
    The long windows of continued assets' new bars (assets whose stored history is unchanged).

    A continued asset's batch holds only the 20 rows before its new bars that its short
    windows need (the deepest lag chain: a 10-row sum lagged 11 rows; the 20th log return),
    so its new bars' longer windows are read from stored rows instead, each giving the full
    build's bits: the 52-week extremes from daily_bars (max and min are exact), the close 60
    rows back, and SMA 50/200 from the stored 10- and 20-row close sums at the same row
    offsets, added in the same order. Each join writes its small side last: that is the hash join's
    build side (features_written_join_order).

    Empty on a full build (no stored features): every asset is then computed from its batch.
#}
-- depends_on: {{ ref('int_daily_bars') }}
-- depends_on: {{ ref('int_feature_bars_batched') }}
-- depends_on: {{ ref('int_feature_windows_lagged') }}
{{ config(materialized='ephemeral') }}

{%- set d = 'double precision' %}
{%- set moving_averages = features_moving_averages() %}
{%- set previous = features_previous_relation() %}
{#- the stored sums each moving average reads, as (column, rows back), and the rows back they are on #}
{%- set stored_terms = [] %}
{%- for first_rn, terms, n in moving_averages.values() %}
    {%- for term in terms if term[1] > 0 and term not in stored_terms %}
        {%- do stored_terms.append(term) %}
    {%- endfor %}
{%- endfor %}
{%- set offsets = (stored_terms | map(attribute=1) | list + [60]) | unique | sort %}

{% if previous is not none -%}

with

feature_bars_batched as (

    select * from {{ ref('int_feature_bars_batched') }}

),

feature_windows_lagged as (

    select * from {{ ref('int_feature_windows_lagged') }}

),

continued_extremes_52w as (

    select
        new_bars.asset_id,
        new_bars.date,
        max(cast(daily_bars.high as {{ d }})) as highest_high_52w,
        min(cast(daily_bars.low as {{ d }})) as lowest_low_52w

    from {{ ref('int_daily_bars') }} as daily_bars
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
        close_sum_10,
        close_sum_20

    from feature_windows_lagged
    where is_new and not is_full_history

),

{#-
    The rows each new bar reads (60 rows back and those of the moving averages' sums), by equi-joins on (asset_id, rn),
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
        values {% for offset in offsets %}({{ offset }}){{ ', ' if not loop.last }}{% endfor %}
    ) as offsets (rows_back)

),

{#- from the stored rows or, in a catch-up of several days, from this run's new rows #}

looked_up as (

    select
        lookup_rows.asset_id,
        lookup_rows.date,
        lookup_rows.rows_back,
        stored.close,
        stored.close_sum_10,
        stored.close_sum_20

    from {{ previous }} as stored
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
        continued_new_sums.close_sum_10,
        continued_new_sums.close_sum_20

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
        continued_new_sums.close_sum_20,
        max(case when looked_up.rows_back = 60 then looked_up.close end) as close_lag_60,
        {%- for column, back in stored_terms %}
        max(case when looked_up.rows_back = {{ back }} then looked_up.{{ column }} end)
            as {{ column }}_back_{{ back }}{{ ',' if not loop.last }}
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
        continued_new_sums.close_sum_10,
        continued_new_sums.close_sum_20

),

continued_long_windows as (

    select
        asset_id,
        date,
        close_lag_60,
        {%- for name, (first_rn, terms, n) in moving_averages.items() %}
        case when rn >= {{ first_rn }} then (
            {% for column, back in terms -%}
            {{ ' + ' if not loop.first }}{{ column if back == 0 else column ~ '_back_' ~ back }}
            {%- endfor %}
        ) / {{ n }} end as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}

    from continued_close_sums

),

final as (

    select
        continued_long_windows.*,
        continued_extremes_52w.highest_high_52w,
        continued_extremes_52w.lowest_low_52w

    from continued_long_windows
    left join continued_extremes_52w
        on
            continued_long_windows.asset_id = continued_extremes_52w.asset_id
            and continued_long_windows.date = continued_extremes_52w.date

)

select * from final

{%- else %}

with

final as (

    select
        cast(null as integer) as asset_id,
        cast(null as date) as date,
        cast(null as {{ d }}) as close_lag_60,
        {%- for name in moving_averages %}
        cast(null as {{ d }}) as {{ name }},
        {%- endfor %}
        cast(null as {{ d }}) as highest_high_52w,
        cast(null as {{ d }}) as lowest_low_52w
    where false

)

select * from final

{%- endif %}
