{#
    The plans a model kept incrementally from daily bars recomputes by: on an incremental build,
    int_bar_recomputes_planned's (what changed); on the model's first or full build, every asset
    of the universe from 0001-01-01, so a model added to a warehouse that already has bars is
    built whole. A model calling it names `-- depends_on: {{ ref('int_bar_recomputes_planned') }}`
    (dbt parses it as a first build).
#}
{% macro bars_recompute_plans() -%}
    {%- if is_incremental() -%}
        select
            asset_id,
            recompute_from,
            inputs_from,
            in_full
        from {{ ref('int_bar_recomputes_planned') }}
    {%- else -%}
        select
            asset_id,
            cast('0001-01-01' as date) as recompute_from,
            cast('0001-01-01' as date) as inputs_from,
            true as in_full
        from {{ ref('dim_assets') }}
    {%- endif -%}
{%- endmacro %}
