"""Prefect flows that sequence extract -> dbt run -> dbt test, and the `market-elt` CLI."""
