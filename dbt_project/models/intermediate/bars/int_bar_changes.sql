{#
    What daily_bars has not published yet, per asset: the bars int_daily_bars wrote since the
    asset's last publish (its watermark in int_daily_bars_published, kept by publish_marts),
    from `changed_from` on; `previous_bar_date` is its last bar before that and `context_from`
    the first of the var('outlier_window') + 1 bars before it, which the gates need as context.
    An asset whose bars were all removed (it left the universe, or its provider ids now match
    nothing) is listed from 0001-01-01 while it has published rows. The daily run's error gates
    check only these assets from `context_from` on (change_scope); daily_bars publishes from
    `changed_from` on (publish_new_rows, which finds the same rows from the same watermarks). A
    quarantined asset is not published, so it stays listed until it is. Every asset, from its first bar, before the
    first publish or after a full refresh.
#}
{{ config(materialized='table', post_hook=["{{ analyze_relation(this) }}"]) }}

{%- set watermarks = publish_watermarks('int_daily_bars') %}

with

bars as (

    select * from {{ ref('int_daily_bars') }}

),

watermarks as (

    {%- if watermarks is not none %}
        select * from {{ watermarks }}
    {%- else %}
        select
            cast(null as integer) as asset_id,
            cast(null as timestamp) as published_through
        where 1 = 0
    {%- endif %}

),

pending as (

    select
        bars.asset_id,
        min(bars.rn) as first_rn,
        min(bars.date) as changed_from

    from bars
    left join watermarks
        on bars.asset_id = watermarks.asset_id
    where
        watermarks.published_through is null
        or bars.computed_at > watermarks.published_through
    group by bars.asset_id

),

{#- published assets without a bar left (they left the universe, or their ids match nothing) #}

emptied as (

    select
        watermarks.asset_id,
        cast('0001-01-01' as date) as changed_from

    from watermarks
    left join bars
        on watermarks.asset_id = bars.asset_id
    where bars.asset_id is null

),

contexts as (

    select
        pending.asset_id,
        max(bars.date) as previous_bar_date,
        min(bars.date) as context_from

    from pending
    inner join bars
        on
            pending.asset_id = bars.asset_id
            and pending.first_rn - ({{ var('outlier_window') }} + 1) <= bars.rn
            and pending.first_rn > bars.rn
    group by pending.asset_id

),

final as (

    select
        pending.asset_id,
        pending.changed_from,
        contexts.previous_bar_date,
        coalesce(contexts.context_from, pending.changed_from) as context_from

    from pending
    left join contexts
        on pending.asset_id = contexts.asset_id

    union all

    select
        emptied.asset_id,
        emptied.changed_from,
        cast(null as date) as previous_bar_date,
        emptied.changed_from as context_from

    from emptied
    left join pending
        on emptied.asset_id = pending.asset_id
    where pending.asset_id is null

)

select * from final
