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
        cast(asset_id as integer) as asset_id,
        cast(period_start as date) as period_start,
        cast(max(date) as date) as period_end,
        cast(max(case when rank_first = 1 then open end) as double precision) as open,
        cast(max(high) as double precision) as high,
        cast(min(low) as double precision) as low,
        cast(max(case when rank_last = 1 then close end) as double precision) as close,
        cast(sum(volume) as double precision) as volume,
        cast(sum(dollar_volume) as double precision) as dollar_volume,
        cast(count(*) as bigint) as n_bars,
        cast(max(source) as text) as source,
        cast(bool_and(adjusted_flag) as boolean) as adjusted_flag

    from ranked
    group by asset_id, period_start

)

select * from aggregated

{% endmacro %}
