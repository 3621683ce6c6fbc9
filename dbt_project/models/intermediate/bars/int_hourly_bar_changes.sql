{#
    Which hours int_hourly_bars recomputes, per crypto asset: from the first hour holding a
    point or candle loaded after the asset's stored bars (a re-fetched day comes back whole
    under a new load id), or from the hour after its last stored bar if that is earlier (hours
    that were still open last time). `context_from` is the hour of the last print before that,
    whose price opens the first recomputed hour; `first_hour` the asset's first hour ever (its
    bars' row numbers count from it). Hours are counted since 1970-01-01 00:00 UTC.
    Without stored bars (the first run, a full refresh): every asset from its first hour.
    Materialized before int_hourly_bars deletes what it recomputes (its pre-hook reads this).
#}
{{ config(materialized='table', post_hook=["{{ analyze_relation(this) }}"]) }}

{%- set stored = stored_relation('int_hourly_bars') %}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

crypto_prints as (

    select * from {{ ref('int_crypto_prints_hourly') }}

),

ohlc_hourly as (

    select * from {{ ref('stg_coingecko__ohlc_hourly') }}

),

prints as (

    select
        asset_id,
        hour_index,
        load_id

    from crypto_prints

    union all

    select
        assets.asset_id,
        cast(floor(extract(epoch from ohlc_hourly.candle_hour) / 3600.0) as bigint) as hour_index,
        ohlc_hourly.load_id

    from ohlc_hourly
    inner join assets
        on ohlc_hourly.coingecko_id = assets.coingecko_id
    where assets.asset_type = 'crypto'

),

stored_bars as (

    {#- nothing stored yet, or a full refresh: every print is new #}
    select
        asset_id,
        hour_index,
        load_id

    from {{ stored if stored is not none else 'prints' }}
    where {{ 'true' if stored is not none else 'false' }}

),

stored_per_asset as (

    select
        asset_id,
        max(hour_index) as last_hour,
        max(load_id) as last_load_id

    from stored_bars
    group by asset_id

),

new_per_asset as (

    select
        prints.asset_id,
        min(prints.hour_index) as first_new_hour,
        max(stored_per_asset.last_hour) as last_stored_hour

    from prints
    left join stored_per_asset
        on prints.asset_id = stored_per_asset.asset_id
    where
        stored_per_asset.asset_id is null
        or prints.load_id > stored_per_asset.last_load_id
    group by prints.asset_id

),

changed as (

    select
        asset_id,
        case
            when last_stored_hour is null then first_new_hour
            when last_stored_hour + 1 < first_new_hour then last_stored_hour + 1
            else first_new_hour
        end as changed_from

    from new_per_asset

),

final as (

    select
        changed.asset_id,
        changed.changed_from,
        coalesce(
            max(case when prints.hour_index < changed.changed_from then prints.hour_index end),
            changed.changed_from
        ) as context_from,
        min(prints.hour_index) as first_hour

    from changed
    inner join prints
        on changed.asset_id = prints.asset_id
    group by changed.asset_id, changed.changed_from

)

select * from final
