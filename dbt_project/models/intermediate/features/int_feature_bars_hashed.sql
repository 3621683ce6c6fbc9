{#
    The bars daily_features are computed from (int_daily_bars, as double precision), each with a
    64-bit hash of its inputs (features_row_hash): XORed over an asset's bars it fingerprints the
    history, so a restated history (a split, a late correction) is recomputed in full.
#}
{{ config(materialized='ephemeral') }}

with

daily_bars as (

    select * from {{ ref('int_daily_bars') }}

),

hashed as (

    select
        daily_bars.asset_id,
        daily_bars.date,
        cast(daily_bars.high as double precision) as high,
        cast(daily_bars.low as double precision) as low,
        cast(daily_bars.close as double precision) as close,
        cast(daily_bars.volume as double precision) as volume,
        {{ features_row_hash(
            'daily_bars.date',
            'cast(daily_bars.high as double precision)',
            'cast(daily_bars.low as double precision)',
            'cast(daily_bars.close as double precision)',
            'cast(daily_bars.volume as double precision)',
        ) }} as row_hash

    from daily_bars

)

select * from hashed
