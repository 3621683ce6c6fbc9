{#
    The 52-week extremes of window pass 1 (int_feature_windows_lagged): the highest high and
    lowest low over the calendar window date - 364 .. date of every batch row. max and min are
    exact, so every decomposition gives the same values; the engines differ in what is cheap.

    DuckDB: `range between 364 preceding` frames (segment trees: O(log n) a row).
    Postgres restarts a max/min frame at every row (no inverse transition): O(rows x 250) for
    these frames, most of the features model's time before. There the window is split at
    fixed 365-day calendar blocks instead: it covers the end of the previous block (from its
    first row on) and the start of the row's own block (up to the row). Each part is a running
    max/min within its block, in ascending and descending date order (incremental sorts of each
    asset's rows), and the previous block's part is read at the window's first row, counted back
    by a `count(*)` range frame (which Postgres slides in O(1)). `greatest`/`least` ignore NULLs.

    features_extremes_52w_prepared(relation): a select over the CTE `relation` (asset_id,
    day_number, high, low) adding what features_extremes_52w() reads.
    features_extremes_52w(): the select-list entries highest_high_52w and lowest_low_52w of a
    select whose window `asset_rows` is (partition by asset_id order by day_number).
#}
{% macro features_extremes_52w_prepared(relation) -%}
    {{ return(adapter.dispatch('features_extremes_52w_prepared', 'market_elt')(relation)) }}
{%- endmacro %}

{% macro default__features_extremes_52w_prepared(relation) -%}
    select
        blocked.*,
        max(blocked.high) over block_to_date as high_block_to_date,
        min(blocked.low) over block_to_date as low_block_to_date,
        max(blocked.high) over block_from_date as high_block_from_date,
        min(blocked.low) over block_from_date as low_block_from_date,
        cast(
            count(*) over (
                partition by blocked.asset_id order by blocked.day_number range between 364 preceding and current row
            ) - 1 as integer
        ) as rows_back_52w

    from (
        select
            *,
            cast(floor(day_number / cast(365 as double precision)) as integer) as block_365
        from {{ relation }}
    ) as blocked
    window
        block_to_date as (partition by blocked.asset_id, blocked.block_365 order by blocked.day_number),
        block_from_date as (partition by blocked.asset_id, blocked.block_365 order by blocked.day_number desc)
{%- endmacro %}

{% macro duckdb__features_extremes_52w_prepared(relation) -%}
    select * from {{ relation }}
{%- endmacro %}

{% macro features_extremes_52w() -%}
    {{ return(adapter.dispatch('features_extremes_52w', 'market_elt')()) }}
{%- endmacro %}

{% macro default__features_extremes_52w() -%}
    {%- for name, high_or_low, pick in [('highest_high_52w', 'high', 'greatest'), ('lowest_low_52w', 'low', 'least')] %}
        case
            when lag(block_365, rows_back_52w) over asset_rows < block_365
                then {{ pick }}({{ high_or_low }}_block_to_date, lag({{ high_or_low }}_block_from_date, rows_back_52w) over asset_rows)
            else {{ high_or_low }}_block_to_date
        end as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro duckdb__features_extremes_52w() -%}
        max(high) over (asset_rows range between 364 preceding and current row) as highest_high_52w,
        min(low) over (asset_rows range between 364 preceding and current row) as lowest_low_52w
{%- endmacro %}

{#- Spark: a RANGE window over the day number, as on DuckDB, spelled out (Spark cannot refine a named window). -#}
{% macro spark__features_extremes_52w_prepared(relation) -%}
    select * from {{ relation }}
{%- endmacro %}

{% macro spark__features_extremes_52w() -%}
        max(high) over (partition by asset_id order by day_number range between 364 preceding and current row)
            as highest_high_52w,
        min(low) over (partition by asset_id order by day_number range between 364 preceding and current row)
            as lowest_low_52w
{%- endmacro %}
