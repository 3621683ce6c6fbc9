{#
    Pre-hook of the incremental models kept from daily bars (int_daily_bars and its weekly and
    monthly roll-ups): delete the stored rows of each asset `plans` (int_bar_recomputes_planned)
    recomputes, from its `recompute_from` (or `from_column`) on (all of them when it is
    recomputed in full), or from the start of the `period` ('week', 'month') that day falls in,
    so the append that follows writes them once. Nothing to delete on a first or full build.
    A join (`using`), not a correlated `exists`: DuckDB evaluates the latter against every stored
    row's asset (4.4-5.8 s against 2 ms for 2,000 assets' last days in 7.3M rows).
#}
{% macro bars_delete_recomputed(plans, date_column='date', period=none, from_column='recompute_from') -%}
    {%- if is_incremental() -%}
        {%- set from_day = 'plans.' ~ from_column if period is none
            else "cast(date_trunc('" ~ period ~ "', plans." ~ from_column ~ ") as date)" -%}
        delete from {{ this }}
        using {{ plans }} as plans
        where plans.asset_id = {{ this }}.asset_id
            and {{ this }}.{{ date_column }} >= {{ from_day }}
    {%- endif -%}
{%- endmacro %}
