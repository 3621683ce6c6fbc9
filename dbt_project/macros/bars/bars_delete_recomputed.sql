{#
    Pre-hook of the incremental models kept from daily bars (int_daily_bars and its weekly and
    monthly roll-ups): delete the stored rows of each asset `plans` (int_bar_recomputes_planned)
    recomputes, from its `recompute_from` (or `from_column`) on (all of them when it is
    recomputed in full), or from the start of the `period` ('week', 'month') that day falls in,
    so the append that follows writes them once. Nothing to delete on a first or full build.
#}
{% macro bars_delete_recomputed(plans, date_column='date', period=none, from_column='recompute_from') -%}
    {%- if is_incremental() -%}
        {%- set from_day = 'plans.' ~ from_column if period is none
            else "cast(date_trunc('" ~ period ~ "', plans." ~ from_column ~ ") as date)" -%}
        delete from {{ this }}
        where exists (
            select 1 from {{ plans }} as plans
            where plans.asset_id = {{ this }}.asset_id
                and {{ this }}.{{ date_column }} >= {{ from_day }}
        )
    {%- endif -%}
{%- endmacro %}
