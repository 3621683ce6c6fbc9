{#
    One row per exchange and day from var('calendar_start') to var('calendar_end'): the
    exchanges of the universe (seeds exchanges.csv and exchange_closures.csv, generated from
    the exchange-calendars library by `python -m extract.calendars`) and CRYPTO, which trades
    every day. A day is a session when it is in the exchange's trading week and not a closure;
    beyond the last day the library knows (Chinese exchanges: the announced year) it is unknown
    (NULL), and the gates do not judge it.
#}

with

exchanges as (

    select * from {{ ref('exchanges') }}

),

closures as (

    select * from {{ ref('exchange_closures') }}

),

days as (

    {{ date_spine(var('calendar_start'), var('calendar_end')) }}

),

calendars as (

    select
        exchange,
        weekmask,
        first_day,
        last_day
    from exchanges
    union all
    select
        'CRYPTO' as exchange,
        '1111111' as weekmask,
        cast('{{ var("calendar_start") }}' as date) as first_day,
        cast('{{ var("calendar_end") }}' as date) as last_day

),

exchange_days as (

    select
        calendars.exchange,
        calendars.first_day,
        calendars.last_day,
        cast(days.date as date) as date,
        substr(calendars.weekmask, cast({{ iso_weekday("days.date") }} as integer), 1) = '1' as is_trading_weekday

    from calendars
    cross join days

),

final as (

    select
        cast(exchange_days.exchange as text) as exchange,
        exchange_days.date,
        cast(
            case
                when exchange_days.date not between exchange_days.first_day and exchange_days.last_day then null
                when not exchange_days.is_trading_weekday then false
                else closed.date is null
            end as boolean
        ) as is_session,
        cast(closed.name as text) as holiday_name,
        cast(early.date is not null as boolean) as is_early_close

    from exchange_days
    left join closures as closed
        on
            exchange_days.exchange = closed.exchange
            and exchange_days.date = closed.date
            and closed.kind = 'closed'
    left join closures as early
        on
            exchange_days.exchange = early.exchange
            and exchange_days.date = early.date
            and early.kind = 'early_close'

)

select * from final
