{#
    Pre-hook of int_daily_features_computed on DuckDB (nothing on Postgres), which evaluates
    the recursion (int_feature_states_recursed, a view). DuckDB's build-side optimizer picks
    each hash join's build side from cardinality estimates, and for the recursive step it
    sometimes picks the batch table (estimated smaller than the recursion's working table):
    then every step of the recursion rebuilds a hash table of the whole batch. With it off,
    each join keeps its written order, and the model writes the small side last (the build
    side): the step's states, the new bars, the lookups. Used where the recursion is long:
    full builds and incremental runs that recompute some asset in full; a plain incremental
    run (one step per asset) is faster with the optimizer's choices (figures in
    docs/features-performance.md).
    features_default_join_order() (post-hook) turns it back on for the connection.
#}
{% macro features_written_join_order(batch_relation) -%}
    {{ return(adapter.dispatch('features_written_join_order', 'market_elt')(batch_relation)) }}
{%- endmacro %}

{% macro default__features_written_join_order(batch_relation) -%}
{%- endmacro %}

{% macro duckdb__features_written_join_order(batch_relation) -%}
    {%- set long_recursion = true -%}
    {%- if execute and is_incremental() -%}
        {%- set full_histories = run_query(
            'select count(*) from ' ~ batch_relation ~ ' where is_full_history'
        ).columns[0].values()[0] -%}
        {%- set long_recursion = full_histories > 0 -%}
    {%- endif -%}
    {%- if long_recursion -%}
        set disabled_optimizers = 'build_side_probe_side'
    {%- endif -%}
{%- endmacro %}

{% macro features_default_join_order() -%}
    {{ return(adapter.dispatch('features_default_join_order', 'market_elt')()) }}
{%- endmacro %}

{% macro default__features_default_join_order() -%}
{%- endmacro %}

{% macro duckdb__features_default_join_order() -%}
    reset disabled_optimizers
{%- endmacro %}

{% macro spark__features_written_join_order(batch_relation) -%}
{%- endmacro %}

{% macro spark__features_default_join_order() -%}
{%- endmacro %}
