{#
    Roll daily bars up to a coarser period ('week' starts Monday, or 'month'): open of the
    first bar, close of the last, extremes of high and low, summed volume. Engine-neutral.
#}
{% macro aggregate_bars(daily_bars, period) %}

with

daily as (

    select
        *,
        cast(date_trunc('{{ period }}', date) as date) as period_start

    from {{ daily_bars }}

),

ranked as (

    select
        *,
        row_number() over (partition by asset_id, period_start order by date) as rank_first,
        row_number() over (partition by asset_id, period_start order by date desc) as rank_last

    from daily

),

aggregated as (

    select
        asset_id,
        period_start,
        max(date) as period_end,
        max(case when rank_first = 1 then open end) as open,
        max(high) as high,
        min(low) as low,
        max(case when rank_last = 1 then close end) as close,
        sum(volume) as volume,
        sum(dollar_volume) as dollar_volume,
        count(*) as n_bars,
        max(source) as source,
        bool_and(adjusted_flag) as adjusted_flag

    from ranked
    group by asset_id, period_start

)

select * from aggregated

{% endmacro %}
