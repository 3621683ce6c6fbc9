{#
    What each asset's stored daily bars were built from, for the next build's plan
    (int_bar_recomputes_planned): the source they come from, fingerprints of the asset's row in
    the universe (with the adjustment settings) and of its corporate actions, and the last load
    id of the inputs read. Written after int_daily_bars, for the assets this build planned; an
    asset that left the universe loses its state with its bars.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='asset_id',
        post_hook=["{{ daily_bar_states_forget_removed(ref('dim_assets')) }}"],
    )
}}

-- depends_on: {{ ref('int_daily_bars') }}

with

plans as (

    select * from {{ ref('int_bar_recomputes_planned') }}

),

final as (

    select
        asset_id,
        source,
        asset_fingerprint,
        actions_fingerprint,
        last_load_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as computed_at

    from plans
    where asset_fingerprint is not null

)

select * from final
