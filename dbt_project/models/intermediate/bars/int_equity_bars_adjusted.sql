{#
    Alpha Vantage bars adjusted the way OpenBB does it: from the raw trade prices and the
    corporate-action columns, not from Alpha Vantage's rounded adjusted close. For each bar,
    the factor is the product over every LATER session s of
        split part:     1 / split_coefficient_s
        dividend part:  1 - dividend_amount_s / close_{s-1}
    and open/high/low/close are multiplied by it (volume is divided by the split part), so
    the latest bar is unchanged and history is on today's share basis.
    var('adjustment_mode'): splits_and_dividends | splits_only | unadjusted, recorded per row.
    It reads the sessions this build recomputes (int_equity_sessions_scoped): a whole history
    when an asset is recomputed in full, else the days from its first new one, on which no
    corporate action falls (int_bar_recomputes_planned), so their factor is 1 as in a rebuild.
    Rows fetched with the free TIME_SERIES_DAILY carry no corporate actions of their own: they
    take them from the free SPLITS and DIVIDENDS answers, matched by session date; a symbol with
    neither (not fetched yet, or no events at all) stays unadjusted.
#}

{%- set mode = var('adjustment_mode') -%}
{%- if mode not in ['splits_and_dividends', 'splits_only', 'unadjusted'] -%}
    {{ exceptions.raise_compiler_error("adjustment_mode must be splits_and_dividends, splits_only or unadjusted, got " ~ mode) }}
{%- endif %}

with

daily as (

    select * from {{ ref('int_equity_sessions_scoped') }}

),

splits as (

    select * from {{ ref('stg_alpha_vantage__splits') }}

),

dividends as (

    select * from {{ ref('stg_alpha_vantage__dividends') }}

),

symbols_with_actions as (

    select alpha_vantage_symbol from splits
    union
    select alpha_vantage_symbol from dividends

),

{#- a premium series' own corporate actions, else those of the free corporate-action answers #}

sessions as (

    select
        daily.alpha_vantage_symbol,
        daily.bar_date,
        daily.open,
        daily.high,
        daily.low,
        daily.close,
        daily.volume,
        daily.provider_adjusted_close,
        daily.load_id,
        case
            when daily.has_corporate_actions then daily.dividend_amount else coalesce(dividends.dividend_amount, 0)
        end as dividend_amount,
        case
            when daily.has_corporate_actions then daily.split_coefficient else coalesce(splits.split_factor, 1)
        end as split_coefficient,
        daily.has_corporate_actions or symbols_with_actions.alpha_vantage_symbol is not null as has_corporate_actions

    from daily
    left join splits
        on
            daily.alpha_vantage_symbol = splits.alpha_vantage_symbol
            and daily.bar_date = splits.effective_date
    left join dividends
        on
            daily.alpha_vantage_symbol = dividends.alpha_vantage_symbol
            and daily.bar_date = dividends.ex_dividend_date
    left join symbols_with_actions
        on daily.alpha_vantage_symbol = symbols_with_actions.alpha_vantage_symbol

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

    from sessions

),

{#-
    The products are sums of logs over the corporate-action sessions only (a few per year), so
    a new session without one leaves every earlier bar's factor bit for bit the same: a sum
    over all later sessions would regroup its terms as the history grows (window frames are
    summed in an order that depends on the partition's length), and daily_features would
    see a restated history every day.
#}

{#-
    Both windows run newest first from the partition's start (a running aggregate): Postgres
    recomputes a min() frame that starts after the current row for every row (no inverse
    transition).
#}

actions as (

    select
        alpha_vantage_symbol,
        bar_date,
        sum(ln(split_factor)) over actions_newest_first as split_log_sum,
        sum(ln(coalesce(dividend_factor, 1.0))) over actions_newest_first as dividend_log_sum

    from session_factors
    where split_factor <> 1.0 or dividend_factor <> 1.0
    window actions_newest_first as (
        partition by alpha_vantage_symbol
        order by bar_date desc
        rows between unbounded preceding and current row
    )

),

next_actions as (

    select
        *,
        min(case when split_factor <> 1.0 or dividend_factor <> 1.0 then bar_date end) over (
            partition by alpha_vantage_symbol
            order by bar_date desc
            rows between unbounded preceding and 1 preceding
        ) as next_action_date

    from session_factors

),

cumulative as (

    select
        next_actions.*,
        exp(coalesce(actions.split_log_sum, 0)) as split_adjustment,
        exp(coalesce(actions.dividend_log_sum, 0)) as dividend_adjustment

    from next_actions
    left join actions
        on
            next_actions.alpha_vantage_symbol = actions.alpha_vantage_symbol
            and next_actions.next_action_date = actions.bar_date

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
