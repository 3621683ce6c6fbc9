{#
    What this build changed, per asset: the first day whose bar differs from the published
    daily_bars (new, revised or gone), the last bar before it, and the first day of the context
    the gates need before it (var('outlier_window') + 1 bars: the outlier test's window). The
    daily run's error gates check only these assets from `context_from` on (change_scope);
    `market-elt check --all` checks everything. Compared with what is published, not with the
    previous build, so a quarantined asset stays changed until it publishes.
    Without a published daily_bars (the first run, a full refresh, changed columns): every
    asset from its first bar.
#}
{{ config(materialized='table') }}

{%- set published = change_scope_published_bars(ref('int_daily_bars')) %}
{%- set compared = ['open', 'high', 'low', 'close', 'volume', 'dollar_volume', 'source', 'currency',
    'adjusted_flag', 'adjustment', 'load_id'] %}

with

bars as (

    select * from {{ ref('int_daily_bars') }}

),

published_bars as (

    {#- nothing published yet, or a full refresh: no published bar, every bar is new #}
    select * from {{ published if published is not none else 'bars' }}
    where {{ 'true' if published is not none else 'false' }}

),

changed_days as (

    select
        coalesce(bars.asset_id, published_bars.asset_id) as asset_id,
        coalesce(bars.date, published_bars.date) as date

    from bars
    full outer join published_bars
        on
            bars.asset_id = published_bars.asset_id
            and bars.date = published_bars.date
    where
        bars.asset_id is null
        or published_bars.asset_id is null
        {%- for column in compared %}
            or bars.{{ column }} is distinct from published_bars.{{ column }}
        {%- endfor %}

),

{#- a day built twice matches its published bar twice: a change too (the unique gate must see it) #}

duplicated_days as (

    select
        asset_id,
        date

    from bars
    group by asset_id, date
    having count(*) > 1

),

all_changed_days as (

    select * from changed_days
    union all
    select * from duplicated_days

),

changes as (

    select
        asset_id,
        min(date) as changed_from

    from all_changed_days
    group by asset_id

),

earlier_bars as (

    select
        bars.asset_id,
        bars.date,
        row_number() over (partition by bars.asset_id order by bars.date desc) as bars_back

    from bars
    inner join changes
        on
            bars.asset_id = changes.asset_id
            and bars.date < changes.changed_from

),

contexts as (

    select
        asset_id,
        max(date) as previous_bar_date,
        min(date) as context_from

    from earlier_bars
    where bars_back <= {{ var('outlier_window') }} + 1
    group by asset_id

),

final as (

    select
        changes.asset_id,
        changes.changed_from,
        contexts.previous_bar_date,
        coalesce(contexts.context_from, changes.changed_from) as context_from

    from changes
    left join contexts
        on changes.asset_id = contexts.asset_id

)

select * from final
