{#
    One bar per coin and UTC day: CoinGecko's true daily candles where the plan provides them
    (source 'coingecko'), otherwise the approximate bars built from hourly points
    (source 'coingecko_hourly'). Candle days take the volume of the hourly aggregation.
#}

with

candles as (

    select * from {{ ref('int_crypto_candles_scoped') }}

),

hourly_bars as (

    select * from {{ ref('int_crypto_bars_aggregated') }}

),

from_candles as (

    select
        candles.coingecko_id,
        candles.candle_date as bar_date,
        candles.open,
        candles.high,
        candles.low,
        candles.close,
        hourly_bars.volume_24h_usd / candles.close as volume,
        'coingecko' as source,
        candles.load_id

    from candles
    left join hourly_bars
        on
            candles.coingecko_id = hourly_bars.coingecko_id
            and candles.candle_date = hourly_bars.bar_date

),

from_hourly as (

    select
        hourly_bars.coingecko_id,
        hourly_bars.bar_date,
        hourly_bars.open,
        hourly_bars.high,
        hourly_bars.low,
        hourly_bars.close,
        hourly_bars.volume,
        hourly_bars.source,
        hourly_bars.load_id

    from hourly_bars
    left join candles
        on
            hourly_bars.coingecko_id = candles.coingecko_id
            and hourly_bars.bar_date = candles.candle_date
    where candles.coingecko_id is null

),

final as (

    select * from from_candles
    union all
    select * from from_hourly

)

select * from final
