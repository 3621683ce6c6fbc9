"""The warehouse a parametrized flow test runs on: `dev` (DuckDB) or `postgres` (a fresh
database in the session's cluster)."""

from __future__ import annotations

import pytest

TARGETS = ["dev", pytest.param("postgres", marks=pytest.mark.postgres)]


def use_warehouse(target: str, monkeypatch, request) -> None:
    """Point the flows (DBT_TARGET, and for Postgres the libpq variables) at `target`."""
    if target == "postgres":
        request.getfixturevalue("pg_env")
    monkeypatch.setenv("DBT_TARGET", target)
