{#
    The exact recursive features (EMA, MACD, Wilder's RSI/ATR/ADX smoothing, OBV, running max
    close) for every new bar of the batch: recursive CTEs walking all assets one row per
    step, from an empty state before row 0 (full histories) or from the stored state of the
    last computed bar (continued assets, read from the stored features). The step is
    features_recursive_step(), so a continued run repeats the full build's floating-point
    operations bit for bit.

    Two recursions: `seeded_states` takes each asset through the seed phases (rows up to
    features_seeded_row(), 34 steps), `smoothed_states` carries on from there with the
    smoothing alone (the same operations without the row-number branches: cheaper steps, and
    there are thousands of them). A continued asset enters where its stored state row is.

    The recursive terms read the batch table directly (not through an import CTE): DuckDB then
    prunes the scan to the next row number with the table's zone maps (the batch is stored
    ordered by rn), Postgres probes the (asset_id, rn) index.

    A view: its only reader, int_daily_features_computed, evaluates it once, and writing its
    7.3M rows to a table only to read them back cost more than the join they feed.

    The SQL is features_states_recursed(): the recursive CTEs above on DuckDB and Postgres; on
    Spark, whose recursive CTEs cost a job per step, one aggregate() per asset over its bars in
    order (the same step, features_recursive_expressions, as a lambda).
#}
{{ config(materialized='view') }}

{{ features_states_recursed() }}
