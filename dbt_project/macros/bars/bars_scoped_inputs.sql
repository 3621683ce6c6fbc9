{#
    The rows of `inputs` (a provider's staging model) that this build turns into daily bars: those
    of the assets int_bar_recomputes_planned lists, from the day each is recomputed from (all of an
    asset's rows when it is recomputed in full), joined to the assets of `asset_type` by the
    provider's `key`; `date_column` is the input's day. The scoped models (int_*_scoped) select
    this, so a daily run reads the days it rebuilds, not every asset's whole history.
#}
{% macro bars_scoped_inputs(inputs, key, asset_type, date_column) -%}
with

inputs as (

    select * from {{ inputs }}

),

assets as (

    select * from {{ ref('dim_assets') }}

),

plans as (

    select * from {{ ref('int_bar_recomputes_planned') }}

),

scoped as (

    select inputs.*

    from inputs
    inner join assets
        on
            inputs.{{ key }} = assets.{{ key }}
            and assets.asset_type = '{{ asset_type }}'
    inner join plans
        on
            assets.asset_id = plans.asset_id
            and inputs.{{ date_column }} >= plans.recompute_from

)

select * from scoped
{%- endmacro %}
