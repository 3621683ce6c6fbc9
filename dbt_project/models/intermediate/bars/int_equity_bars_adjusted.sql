{#
    Alpha Vantage bars adjusted the way OpenBB does it: from the raw trade prices and the
    corporate-action columns, not from Alpha Vantage's rounded adjusted close. For each bar,
    the factor is the product over every LATER session s of
        split part:     1 / split_coefficient_s
        dividend part:  1 - dividend_amount_s / close_{s-1}
    and open/high/low/close are multiplied by it (volume is divided by the split part), so
    the latest bar is unchanged and history is on today's share basis.
    var('adjustment_mode'): splits_and_dividends | splits_only | unadjusted, recorded per row.
    Rows fetched with the free TIME_SERIES_DAILY carry no corporate actions: unadjusted.
#}

{%- set mode = var('adjustment_mode') -%}
{%- if mode not in ['splits_and_dividends', 'splits_only', 'unadjusted'] -%}
    {{ exceptions.raise_compiler_error("adjustment_mode must be splits_and_dividends, splits_only or unadjusted, got " ~ mode) }}
{%- endif %}

with

daily as (

    select * from {{ ref('stg_alpha_vantage__daily') }}

),

session_factors as (

    select
        *,
        1.0 / split_coefficient as split_factor,
        case
            when dividend_amount > 0
                then 1.0 - dividend_amount / lag(close) over (partition by alpha_vantage_symbol order by bar_date)
            else 1.0
        end as dividend_factor

    from daily

),

cumulative as (

    select
        *,
        exp(coalesce(sum(ln(split_factor)) over later_sessions, 0)) as split_adjustment,
        exp(coalesce(sum(ln(coalesce(dividend_factor, 1.0))) over later_sessions, 0)) as dividend_adjustment

    from session_factors
    window later_sessions as (
        partition by alpha_vantage_symbol
        order by bar_date
        rows between 1 following and unbounded following
    )

),

final as (

    select
        alpha_vantage_symbol,
        bar_date,
        {%- if mode == 'unadjusted' %}
        1.0 as price_factor,
        1.0 as volume_factor,
        {%- elif mode == 'splits_only' %}
        case when has_corporate_actions then split_adjustment else 1.0 end as price_factor,
        case when has_corporate_actions then split_adjustment else 1.0 end as volume_factor,
        {%- else %}
            case when has_corporate_actions then split_adjustment * dividend_adjustment else 1.0 end as price_factor,
            case when has_corporate_actions then split_adjustment else 1.0 end as volume_factor,
        {%- endif %}
        open as raw_open,
        high as raw_high,
        low as raw_low,
        close as raw_close,
        volume as raw_volume,
        provider_adjusted_close,
        case when has_corporate_actions then '{{ mode }}' else 'unadjusted' end as adjustment,
        load_id

    from cumulative

)

select
    alpha_vantage_symbol,
    bar_date,
    raw_open * price_factor as open,
    raw_high * price_factor as high,
    raw_low * price_factor as low,
    raw_close * price_factor as close,
    raw_volume / volume_factor as volume,
    provider_adjusted_close,
    adjustment,
    adjustment <> 'unadjusted' as adjusted_flag,
    'alphavantage' as source,
    load_id

from final
