{#
    Which days of each asset's daily bars this build recomputes, decided from what was loaded
    since the stored bars were built (int_daily_bar_states: per asset, the last load id of the
    inputs it read, the source its bars come from, fingerprints of its universe row and its
    corporate actions). Only assets with something to do are listed:
    - in full (`recompute_from` = 0001-01-01) when no state is stored for it, its row in
      assets.csv, var('adjustment_mode') or var('equity_bar_sources') changed, its corporate
      actions (the SPLITS and DIVIDENDS answers) changed, bars arrived from a source ranked above
      its own, a corporate action falls on a day it would recompute (an action rescales every
      earlier bar of an adjusted history), or its monthly history (TIME_SERIES_MONTHLY, loaded
      once per symbol) was loaded;
    - otherwise from the first day of its new inputs, or from the day after its last stored bar
      if that is earlier (a crypto day still open at the last build), keeping `kept_bars` stored
      bars before it;
    - without a day (`recompute_from` null) when its only new inputs come from a source ranked
      below its own: its bars do not change, but its state records them as read.
    `inputs_from` is the first day of any new input, whatever its source (bar_reconciliation
    compares the providers' raw bars from there).
    An asset that left the universe is listed in full with no source, so its bars are deleted.
    A full rebuild recomputes every asset in full; the incremental bars equal it bit for bit
    (tests/flows/test_incremental.py). Materialized before int_daily_bars deletes what it
    recomputes (its pre-hook reads this).
#}
{{ config(materialized='table', post_hook=["{{ analyze_relation(this) }}"]) }}

{%- set states = stored_relation('int_daily_bar_states') %}
{%- set stored = stored_relation('int_daily_bars') %}
{%- set sources = var('equity_bar_sources') %}

with

assets as (

    select * from {{ ref('dim_assets') }}

),

market_chart as (

    select * from {{ ref('stg_coingecko__market_chart') }}

),

ohlc as (

    select * from {{ ref('stg_coingecko__ohlc') }}

),

alpha_vantage_daily as (

    select * from {{ ref('stg_alpha_vantage__daily') }}

),

alpha_vantage_monthly as (

    select * from {{ ref('stg_alpha_vantage__monthly') }}

),

alpha_vantage_splits as (

    select * from {{ ref('stg_alpha_vantage__splits') }}

),

alpha_vantage_dividends as (

    select * from {{ ref('stg_alpha_vantage__dividends') }}

),

alpaca_daily as (

    select * from {{ ref('stg_alpaca__daily_bars') }}

),

states as (

    {%- if states is not none and stored is not none %}
        select * from {{ states }}
    {%- else %}
        select
            cast(null as integer) as asset_id,
            cast(null as text) as source,
            cast(null as text) as asset_fingerprint,
            cast(null as text) as actions_fingerprint,
            cast(null as text) as last_load_id
        where 1 = 0
    {%- endif %}

),

stored_bars as (

    {%- if states is not none and stored is not none %}
        select
            asset_id,
            date
        from {{ stored }}
    {%- else %}
        select
            cast(null as integer) as asset_id,
            cast(null as date) as date
        where 1 = 0
    {%- endif %}

),

{#- what a full rebuild of the asset's bars depends on besides its inputs #}

universe as (

    select
        asset_id,
        asset_type,
        coingecko_id,
        alpha_vantage_symbol,
        alpaca_symbol,
        md5(concat_ws(
            '|',
            asset_type,
            coalesce(coingecko_id, ''),
            coalesce(alpha_vantage_symbol, ''),
            coalesce(alpaca_symbol, ''),
            currency,
            '{{ var("adjustment_mode") }}',
            '{{ sources | join(",") }}'
        )) as asset_fingerprint

    from assets

),

actions as (

    select
        alpha_vantage_symbol,
        'split' as action,
        effective_date as action_date,
        split_factor as amount
    from alpha_vantage_splits
    union all
    select
        alpha_vantage_symbol,
        'dividend' as action,
        ex_dividend_date as action_date,
        dividend_amount as amount
    from alpha_vantage_dividends

),

action_fingerprints as (

    select
        alpha_vantage_symbol,
        md5({{ string_agg_ordered(
            "action || ':' || cast(action_date as text) || ':' || cast(amount as text)",
            "','",
            'action, action_date, amount',
        ) }}) as actions_fingerprint

    from actions
    group by alpha_vantage_symbol

),

{#- every input row of a bar: its asset, day, source and load, and whether it carries a corporate action #}

inputs as (

    select
        universe.asset_id,
        market_chart.point_date as input_date,
        'coingecko' as source,
        market_chart.load_id,
        false as carries_action
    from market_chart
    inner join universe
        on
            market_chart.coingecko_id = universe.coingecko_id
            and universe.asset_type = 'crypto'
    union all
    select
        universe.asset_id,
        ohlc.candle_date as input_date,
        'coingecko' as source,
        ohlc.load_id,
        false as carries_action
    from ohlc
    inner join universe
        on
            ohlc.coingecko_id = universe.coingecko_id
            and universe.asset_type = 'crypto'
    union all
    select
        universe.asset_id,
        alpha_vantage_daily.bar_date as input_date,
        'alphavantage' as source,
        alpha_vantage_daily.load_id,
        alpha_vantage_daily.has_corporate_actions
        and (alpha_vantage_daily.dividend_amount <> 0 or alpha_vantage_daily.split_coefficient <> 1) as carries_action
    from alpha_vantage_daily
    inner join universe
        on
            alpha_vantage_daily.alpha_vantage_symbol = universe.alpha_vantage_symbol
            and universe.asset_type = 'equity'
    union all
    select
        universe.asset_id,
        alpaca_daily.bar_date as input_date,
        'alpaca' as source,
        alpaca_daily.load_id,
        false as carries_action
    from alpaca_daily
    inner join universe
        on
            alpaca_daily.alpaca_symbol = universe.alpaca_symbol
            and universe.asset_type = 'equity'

),

ranked_inputs as (

    select
        *,
        case source
            when 'coingecko' then 1
            {%- for source in sources %}
                when '{{ source }}' then {{ loop.index }}
            {%- endfor %}
        end as source_rank

    from inputs

),

stored_states as (

    select
        states.*,
        case states.source
            when 'coingecko' then 1
            {%- for source in sources %}
                when '{{ source }}' then {{ loop.index }}
            {%- endfor %}
        end as source_rank

    from states

),

new_inputs as (

    select ranked_inputs.*

    from ranked_inputs
    left join stored_states
        on ranked_inputs.asset_id = stored_states.asset_id
    where
        stored_states.asset_id is null
        or ranked_inputs.load_id > stored_states.last_load_id

),

{#- a monthly history loaded since the state changes the asset's months before its daily bars #}

new_monthly_history as (

    select
        universe.asset_id,
        cast(null as integer) as source_rank,
        cast(null as date) as input_date,
        alpha_vantage_monthly.load_id,
        true as restates

    from alpha_vantage_monthly
    inner join universe
        on
            alpha_vantage_monthly.alpha_vantage_symbol = universe.alpha_vantage_symbol
            and universe.asset_type = 'equity'
    left join stored_states
        on universe.asset_id = stored_states.asset_id
    where
        stored_states.asset_id is null
        or alpha_vantage_monthly.load_id > stored_states.last_load_id

),

new_rows as (

    select
        asset_id,
        source_rank,
        input_date,
        load_id,
        carries_action as restates
    from new_inputs
    union all
    select * from new_monthly_history

),

news as (

    select
        new_rows.asset_id,
        min(new_rows.source_rank) as best_new_rank,
        min(case when new_rows.source_rank <= stored_states.source_rank then new_rows.input_date end)
            as first_new_day,
        min(new_rows.input_date) as first_input_day,
        bool_or(new_rows.restates) as restates,
        max(new_rows.load_id) as last_new_load_id

    from new_rows
    left join stored_states
        on new_rows.asset_id = stored_states.asset_id
    group by new_rows.asset_id

),

candidates as (

    select
        coalesce(universe.asset_id, stored_states.asset_id) as asset_id,
        universe.asset_fingerprint,
        action_fingerprints.actions_fingerprint,
        stored_states.source as stored_source,
        greatest(stored_states.last_load_id, news.last_new_load_id) as last_load_id,
        news.first_new_day,
        news.first_input_day,
        case
            when stored_states.source is null then 'no bars stored'
            when universe.asset_id is null then 'left the universe'
            when universe.asset_fingerprint <> stored_states.asset_fingerprint then 'universe row or settings changed'
            when
                coalesce(action_fingerprints.actions_fingerprint, '')
                <> coalesce(stored_states.actions_fingerprint, '')
                then 'corporate actions changed'
            when news.best_new_rank < stored_states.source_rank then 'a better-ranked source'
            when news.restates then 'a corporate action or monthly history loaded'
        end as restated_because

    from universe
    full outer join stored_states
        on universe.asset_id = stored_states.asset_id
    left join action_fingerprints
        on universe.alpha_vantage_symbol = action_fingerprints.alpha_vantage_symbol
    left join news
        on coalesce(universe.asset_id, stored_states.asset_id) = news.asset_id
    where
        news.asset_id is not null
        or stored_states.asset_id is null
        or universe.asset_id is null
        or universe.asset_fingerprint <> stored_states.asset_fingerprint
        or coalesce(action_fingerprints.actions_fingerprint, '') <> coalesce(stored_states.actions_fingerprint, '')

),

stored_extents as (

    select
        stored_bars.asset_id,
        max(stored_bars.date) as last_date,
        count(*) as n_bars,
        count(case when stored_bars.date < candidates.first_new_day then 1 end) as bars_before_new

    from stored_bars
    inner join candidates
        on stored_bars.asset_id = candidates.asset_id
    where candidates.restated_because is null
    group by stored_bars.asset_id

),

{#- the day each asset would recompute from, without a restatement #}

resumed as (

    select
        candidates.*,
        case
            when candidates.first_new_day is null then null
            when stored_extents.last_date is null then candidates.first_new_day
            when candidates.first_new_day <= stored_extents.last_date then candidates.first_new_day
            else cast(stored_extents.last_date + interval '1 day' as date)
        end as resume_from,
        case
            when stored_extents.last_date is null or candidates.first_new_day <= stored_extents.last_date
                then coalesce(stored_extents.bars_before_new, 0)
            else stored_extents.n_bars
        end as kept_bars

    from candidates
    left join stored_extents
        on candidates.asset_id = stored_extents.asset_id

),

{#- a corporate action on a day that would be recomputed rescales the bars before it too #}

action_days as (

    select
        universe.asset_id,
        actions.action_date
    from actions
    inner join universe
        on actions.alpha_vantage_symbol = universe.alpha_vantage_symbol
    union all
    select
        asset_id,
        input_date as action_date
    from ranked_inputs
    where carries_action

),

actions_ahead as (

    select distinct resumed.asset_id

    from resumed
    inner join action_days
        on
            resumed.asset_id = action_days.asset_id
            and resumed.resume_from <= action_days.action_date
    where resumed.restated_because is null

),

decided as (

    select
        resumed.*,
        coalesce(
            resumed.restated_because,
            case when actions_ahead.asset_id is not null then 'a corporate action on a recomputed day' end
        ) as in_full_because

    from resumed
    left join actions_ahead
        on resumed.asset_id = actions_ahead.asset_id

),

{#- the source an asset recomputed in full takes its bars from: the best ranked with any bar #}

restated_sources as (

    select
        ranked_inputs.asset_id,
        min(ranked_inputs.source_rank) as source_rank

    from ranked_inputs
    inner join decided
        on ranked_inputs.asset_id = decided.asset_id
    where decided.in_full_because is not null
    group by ranked_inputs.asset_id

),

final as (

    select
        decided.asset_id,
        case
            when decided.in_full_because is not null then cast('0001-01-01' as date)
            else decided.resume_from
        end as recompute_from,
        case when decided.in_full_because is not null then 0 else decided.kept_bars end as kept_bars,
        decided.in_full_because is not null as in_full,
        coalesce(
            decided.in_full_because,
            case when decided.resume_from is not null then 'new inputs' else 'new inputs of a lower-ranked source' end
        ) as reason,
        case
            when decided.in_full_because is not null then cast('0001-01-01' as date)
            else decided.first_input_day
        end as inputs_from,
        case
            when decided.in_full_because is null then decided.stored_source
            when universe.asset_type = 'crypto' and restated_sources.source_rank is not null then 'coingecko'
            {%- for source in sources %}
                when restated_sources.source_rank = {{ loop.index }} then '{{ source }}'
            {%- endfor %}
        end as source,
        decided.asset_fingerprint,
        decided.actions_fingerprint,
        decided.last_load_id

    from decided
    left join restated_sources
        on decided.asset_id = restated_sources.asset_id
    left join universe
        on decided.asset_id = universe.asset_id

)

select * from final
