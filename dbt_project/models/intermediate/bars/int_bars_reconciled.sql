{#
    Alpaca's daily bars beside Alpha Vantage's, per equity with an alpaca_symbol and session:
    both unadjusted (Alpha Vantage's as sent, before dbt's adjustment), so a difference is the
    providers disagreeing, not two adjustment methods. Days only one provider has are listed
    too (`status`): Alpaca's IEX history is shorter, Alpha Vantage's free plan keeps 100
    sessions. `close_difference_ratio` beyond var('reconciliation_close_tolerance') for the
    feed is flagged (`within_tolerance`) and warned about by a test naming asset and day.
    Kept incrementally: each build compares again the days from the first new input of each
    asset int_bar_recomputes_planned lists (`inputs_from`, any provider; its pre-hook deletes
    them first) and appends them with `computed_at`.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ bars_delete_recomputed(ref('int_bar_recomputes_planned'), from_column='inputs_from') }}"],
    )
}}

-- depends_on: {{ ref('int_bar_recomputes_planned') }}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

alpha_vantage as (

    select * from {{ ref('stg_alpha_vantage__daily') }}

),

alpaca as (

    select * from {{ ref('stg_alpaca__daily_bars') }}

),

plans as (

    {{ bars_recompute_plans() }}

),

alpha_vantage_bars as (

    select
        assets.asset_id,
        alpha_vantage.bar_date,
        alpha_vantage.close,
        alpha_vantage.volume

    from alpha_vantage
    inner join assets
        on alpha_vantage.alpha_vantage_symbol = assets.alpha_vantage_symbol
    inner join plans
        on
            assets.asset_id = plans.asset_id
            and alpha_vantage.bar_date >= plans.inputs_from
    where assets.asset_type = 'equity' and assets.alpaca_symbol is not null

),

alpaca_bars as (

    select
        assets.asset_id,
        alpaca.bar_date,
        alpaca.close,
        alpaca.volume,
        alpaca.feed

    from alpaca
    inner join assets
        on alpaca.alpaca_symbol = assets.alpaca_symbol
    inner join plans
        on
            assets.asset_id = plans.asset_id
            and alpaca.bar_date >= plans.inputs_from
    where assets.asset_type = 'equity'

),

compared as (

    select
        coalesce(alpha_vantage_bars.asset_id, alpaca_bars.asset_id) as asset_id,
        coalesce(alpha_vantage_bars.bar_date, alpaca_bars.bar_date) as date,
        alpha_vantage_bars.close as alphavantage_close,
        alpaca_bars.close as alpaca_close,
        alpaca_bars.close - alpha_vantage_bars.close as close_difference,
        alpaca_bars.close / nullif(alpha_vantage_bars.close, 0) - 1 as close_difference_ratio,
        alpha_vantage_bars.volume as alphavantage_volume,
        alpaca_bars.volume as alpaca_volume,
        alpaca_bars.volume / nullif(alpha_vantage_bars.volume, 0) as volume_ratio,
        alpaca_bars.feed as alpaca_feed,
        case
            when alpaca_bars.asset_id is null then 'alphavantage_only'
            when alpha_vantage_bars.asset_id is null then 'alpaca_only'
            else 'both'
        end as status

    from alpha_vantage_bars
    full outer join alpaca_bars
        on
            alpha_vantage_bars.asset_id = alpaca_bars.asset_id
            and alpha_vantage_bars.bar_date = alpaca_bars.bar_date

),

final as (

    select
        compared.asset_id,
        assets.symbol,
        compared.date,
        cast(compared.alphavantage_close as double precision) as alphavantage_close,
        cast(compared.alpaca_close as double precision) as alpaca_close,
        cast(compared.close_difference as double precision) as close_difference,
        cast(compared.close_difference_ratio as double precision) as close_difference_ratio,
        cast(compared.alphavantage_volume as double precision) as alphavantage_volume,
        cast(compared.alpaca_volume as double precision) as alpaca_volume,
        cast(compared.volume_ratio as double precision) as volume_ratio,
        compared.alpaca_feed,
        compared.status,
        case
            when compared.status <> 'both' then null
            {%- for feed, tolerance in var('reconciliation_close_tolerance').items() %}
                when compared.alpaca_feed = '{{ feed }}' then abs(compared.close_difference_ratio) <= {{ tolerance }}
            {%- endfor %}
        end as within_tolerance,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as computed_at

    from compared
    inner join assets
        on compared.asset_id = assets.asset_id

)

select * from final
