{#
    Monthly equity bars from before an asset's daily history: the free plan's daily series
    covers only the latest 100 sessions (growing from the first run on), but TIME_SERIES_MONTHLY
    gives every month since listing. Kept for the months before the month of the asset's first
    daily bar (monthly bars roll its daily bars up from there). Split-adjusted only: a dividend
    factor needs the close before each ex-date, which monthly bars do not have, so these rows are
    not marked adjusted. int_monthly_bars_aggregated takes the rows of the assets it recomputes
    in full (a new monthly series, a split or a new first daily bar restates an asset).
#}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

monthly as (

    select * from {{ ref('stg_alpha_vantage__monthly') }}

),

daily_bars as (

    select * from {{ ref('int_daily_bars') }}

),

splits as (

    select * from {{ ref('stg_alpha_vantage__splits') }}

),

equities as (

    select
        asset_id,
        alpha_vantage_symbol

    from assets
    where asset_type = 'equity'

),

{#- each asset's first bar is its bar number 0 #}

first_daily_months as (

    select
        asset_id,
        cast(date_trunc('month', date) as date) as first_daily_month

    from daily_bars
    where rn = 0

),

{#- each month's product of the splits effective after it, as a sum of logs #}

later_splits as (

    select
        monthly.alpha_vantage_symbol,
        monthly.last_session_date,
        exp(sum(ln(splits.split_factor))) as split_ratio

    from monthly
    inner join splits
        on
            monthly.alpha_vantage_symbol = splits.alpha_vantage_symbol
            and monthly.last_session_date < splits.effective_date
    group by monthly.alpha_vantage_symbol, monthly.last_session_date

),

final as (

    select
        equities.asset_id,
        cast(date_trunc('month', monthly.last_session_date) as date) as period_start,
        monthly.last_session_date as period_end,
        monthly.open / coalesce(later_splits.split_ratio, 1) as open,
        monthly.high / coalesce(later_splits.split_ratio, 1) as high,
        monthly.low / coalesce(later_splits.split_ratio, 1) as low,
        monthly.close / coalesce(later_splits.split_ratio, 1) as close,
        monthly.volume * coalesce(later_splits.split_ratio, 1) as volume,
        monthly.load_id

    from monthly
    inner join equities
        on monthly.alpha_vantage_symbol = equities.alpha_vantage_symbol
    left join later_splits
        on
            monthly.alpha_vantage_symbol = later_splits.alpha_vantage_symbol
            and monthly.last_session_date = later_splits.last_session_date
    left join first_daily_months
        on equities.asset_id = first_daily_months.asset_id
    where
        first_daily_months.first_daily_month is null
        or monthly.last_session_date < first_daily_months.first_daily_month

)

select * from final
