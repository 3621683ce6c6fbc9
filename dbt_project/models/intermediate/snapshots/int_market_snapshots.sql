{#
    One row per crypto asset and day: the day's close, its change over the previous day's
    close, realized volatility over the last 7 days, volume, the market cap and rank of the
    CoinGecko markets snapshot and the day's Fear & Greed value and class (market-wide, the
    same on every asset's row). The snapshot is taken when a run happens, so a day takes the
    one taken the next day (a daily run just after the day closed), else the one taken that day.
    Kept incrementally: each build recomputes the days int_market_snapshot_changes lists (its
    pre-hook deletes them first) from the bars from `context_rn` on. The volatility is written
    as sums of lag() terms (a two-pass sample deviation), so a day computed in a daily run has
    the bits a full rebuild gives it: a window aggregate's order of additions can depend on
    where its partition starts.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ bars_delete_recomputed(ref('int_market_snapshot_changes')) }}"],
    )
}}

-- depends_on: {{ ref('int_market_snapshot_changes') }}

{%- set returns = range(7) %}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

{#- what changed; every crypto asset from its first bar on this model's first or full build #}

changes as (

    {%- if is_incremental() %}
        select * from {{ ref('int_market_snapshot_changes') }}
    {%- else %}
        select
            asset_id,
            cast('0001-01-01' as date) as recompute_from,
            0 as context_rn
        from {{ ref('dim_assets') }}
    {%- endif %}

),

daily_bars as (

    select * from {{ ref('int_daily_bars') }}

),

markets as (

    select * from {{ ref('stg_coingecko__markets') }}

),

fear_greed as (

    select * from {{ ref('stg_fear_greed__index') }}

),

crypto_bars as (

    select
        daily_bars.asset_id,
        assets.coingecko_id,
        daily_bars.date,
        daily_bars.close,
        daily_bars.volume,
        daily_bars.dollar_volume,
        changes.recompute_from,
        lag(daily_bars.date) over (partition by daily_bars.asset_id order by daily_bars.date) as previous_date,
        lag(daily_bars.close) over (partition by daily_bars.asset_id order by daily_bars.date) as previous_close

    from daily_bars
    inner join changes
        on
            daily_bars.asset_id = changes.asset_id
            and daily_bars.rn >= changes.context_rn
    inner join assets
        on daily_bars.asset_id = assets.asset_id
    where assets.asset_type = 'crypto'

),

{#- a return only between consecutive days: a gap in the bars is not one day's move #}

returns as (

    select
        *,
        case
            when previous_date = cast(date - interval '1 day' as date) then close / previous_close - 1
        end as change_24h,
        case
            when previous_date = cast(date - interval '1 day' as date) then ln(close / previous_close)
        end as log_return

    from crypto_bars

),

lagged_returns as (

    select
        *,
        {%- for back in returns if back > 0 %}
            lag(log_return, {{ back }}) over (partition by asset_id order by date) as log_return_{{ back }},
        {%- endfor %}
        log_return as log_return_0

    from returns

),

means as (

    select
        *,
        (
            {%- for back in returns %}
                {{ '+ ' if not loop.first }}log_return_{{ back }}
            {%- endfor %}
        ) / 7 as mean_return

    from lagged_returns

),

volatility as (

    select
        *,
        sqrt(
            (
                {%- for back in returns %}
                    {{ '+ ' if not loop.first }}power(log_return_{{ back }} - mean_return, 2)
                {%- endfor %}
            ) / 6
        ) as volatility_7d

    from means

),

snapshots as (

    select
        coingecko_id,
        snapshot_date,
        market_cap,
        market_cap_rank

    from markets

),

final as (

    select
        volatility.asset_id,
        volatility.date,
        cast(volatility.close as double precision) as close,
        cast(volatility.change_24h as double precision) as change_24h,
        cast(volatility.volatility_7d as double precision) as volatility_7d,
        cast(volatility.volume as double precision) as volume,
        cast(volatility.dollar_volume as double precision) as dollar_volume,
        cast(coalesce(next_day.market_cap, same_day.market_cap) as double precision) as market_cap,
        cast(coalesce(next_day.market_cap_rank, same_day.market_cap_rank) as integer) as market_cap_rank,
        cast(fear_greed.index_value as integer) as fear_greed_value,
        fear_greed.value_classification as fear_greed_class,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as computed_at

    from volatility
    left join snapshots as next_day
        on
            volatility.coingecko_id = next_day.coingecko_id
            and cast(volatility.date + interval '1 day' as date) = next_day.snapshot_date
    left join snapshots as same_day
        on
            volatility.coingecko_id = same_day.coingecko_id
            and volatility.date = same_day.snapshot_date
    left join fear_greed
        on volatility.date = fear_greed.index_date
    where volatility.date >= volatility.recompute_from

)

select * from final
