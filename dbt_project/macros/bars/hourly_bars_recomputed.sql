{#
    The stored hourly bars the incremental roll-ups of int_hourly_bars (int_bars_4h_aggregated,
    int_daily_sessions_aggregated) rebuild from: each changed asset's (`changes`:
    int_hourly_bar_changes) from the first hour of the period its first recomputed hour falls
    in, the periods the pre-hook (hourly_bars_delete_recomputed) deleted. A period is `hours`
    hours long and numbered by `index_column` since 1970-01-01 00:00 UTC. Each hour carries its
    period's `rn` (periods since the asset's first) and this run's `computed_at`, the columns
    the incremental publish reads. One macro so that both roll-ups pick, number and stamp
    their periods alike, each stating only its period's length and index's name.
#}
{% macro hourly_bars_recomputed(hourly_bars, changes, hours, index_column) %}

    select
        {{ hourly_bars }}.asset_id,
        {{ hourly_bars }}.hour_index,
        {{ hourly_bars }}.session,
        {{ hourly_bars }}.open,
        {{ hourly_bars }}.high,
        {{ hourly_bars }}.low,
        {{ hourly_bars }}.close,
        {{ hourly_bars }}.volume_24h,
        {{ hourly_bars }}.source,
        {{ hourly_bars }}.n_points,
        {{ hourly_bars }}.load_id,
        cast(floor({{ hourly_bars }}.hour_index / {{ hours }}.0) as bigint) as {{ index_column }},
        cast(floor({{ hourly_bars }}.hour_index / {{ hours }}.0) as bigint)
        - cast(floor({{ changes }}.first_hour / {{ hours }}.0) as bigint) as rn,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as computed_at

    from {{ hourly_bars }}
    inner join {{ changes }}
        on {{ hourly_bars }}.asset_id = {{ changes }}.asset_id
    where {{ hourly_bars }}.hour_index >= floor({{ changes }}.changed_from / {{ hours }}.0) * {{ hours }}

{% endmacro %}
