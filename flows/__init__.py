"""The Prefect flows (daily, backfill), their tasks, the publication gate and the deployments.

Commands (`market-elt` and what it runs besides the flows) live in `flows/commands/`, the
plumbing the flows run on (dbt in-process, the warehouse, the run log) in `flows/runtime/`.
"""
