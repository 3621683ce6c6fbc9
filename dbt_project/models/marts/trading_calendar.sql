{#
    One row per calendar day: crypto trades every day, NYSE on weekdays that are not
    full-day closures (seed generated from extract/calendars.py, the same rules the
    extractors and the emulator use).
#}

with

holidays as (

    select * from {{ ref('nyse_holidays') }}

),

days as (

    {{ date_spine(var('calendar_start'), var('calendar_end')) }}

),

final as (

    select
        cast(days.date as date) as date,
        cast(extract(isodow from days.date) in (6, 7) as boolean) as is_weekend,
        cast(holidays.holiday_name as text) as nyse_holiday,
        cast(extract(isodow from days.date) not in (6, 7) and holidays.holiday_date is null as boolean)
            as is_nyse_session,
        cast(true as boolean) as is_crypto_session

    from days
    left join holidays
        on days.date = holidays.holiday_date

)

select * from final
