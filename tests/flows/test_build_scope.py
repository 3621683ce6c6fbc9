"""What a build runs (flows/runtime/build_scope.py), on the real project's manifest and a real
warehouse: the nodes fed by the providers with new loads and their tests, everything when the
project changed, nothing when nothing was loaded."""

from __future__ import annotations

import pytest

from extract.registry import PROVIDERS
from extract.settings import Settings
from flows.runtime.build_scope import BuildScope, build_scope, record_build
from flows.runtime.dbt import parse_project
from flows.runtime.warehouse import execute
from tests.workdirs import project_copy


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    """The project parsed (parsing reads no data: any warehouse path does)."""
    return parse_project(Settings(duckdb_path=tmp_path_factory.mktemp("scope") / "warehouse.duckdb", dbt_target="dev"))


def _selected(args: list[str]) -> set[str]:
    return set(args[args.index("--select") + 1 :])


def test_a_daily_build_of_alpha_vantage_runs_what_it_feeds_and_their_tests(manifest):
    scope = BuildScope(everything=False, providers=["alpha_vantage"], binds_views_by_name=True)
    models = _selected(scope.run_args(manifest))
    assert {"int_bar_recomputes_planned", "int_daily_bars", "int_weekly_bars_aggregated"} <= models
    assert {"int_feature_bars_batched", "int_daily_features_computed"} <= models
    # Views DuckDB keeps bound by name are not created again, unless compiled from the warehouse.
    assert "int_equity_bars_adjusted" not in models and "daily_bars" not in models
    assert "int_feature_states_recursed" in models, "its SQL reads the stored feature state"
    assert "stg_alpha_vantage__daily" not in models, "the raw tables present are in the fingerprint"
    # Not fed by Alpha Vantage: the seeds' tables, the hourly bars.
    assert not {"dim_assets", "trading_calendar", "int_hourly_bars"} & models
    assert scope.seed_args() is None
    tests = scope.test_args(manifest)
    assert "--select" in tests and "unit_test" not in " ".join(tests)
    names = _selected(tests)
    assert any(name.startswith("daily_bars_") for name in names) and "assert_no_missing_sessions" in names
    assert not any("hourly_bars" in name for name in names)


def test_postgres_creates_every_view_in_scope_again(manifest):
    """Postgres binds a view to its table; dbt drops a rebuilt table with CASCADE."""
    scope = BuildScope(everything=False, providers=["alpha_vantage"], binds_views_by_name=False)
    views = {"int_equity_bars_adjusted", "daily_bars", "int_equity_sessions_scoped"}
    assert views <= _selected(scope.run_args(manifest))


def test_a_changed_project_runs_everything_and_a_build_without_loads_nothing(duckdb_settings):
    project = project_copy()
    settings = duckdb_settings.with_overrides(dbt_project_dir=project)
    first = build_scope(settings, list(PROVIDERS))
    assert first.everything and first.seed_args() == ["seed", "--full-refresh"]
    execute(
        settings,
        [
            "create schema raw",
            "create table raw._dlt_loads (load_id text, schema_name text, status bigint)",
            "insert into raw._dlt_loads values ('1796650000.1', 'coingecko', 0), ('1796650001.2', 'alpha_vantage', 0)",
        ],
    )
    record_build(settings, build_scope(settings, list(PROVIDERS)))
    assert build_scope(settings, list(PROVIDERS)).nothing, "nothing loaded since the recorded build"

    execute(settings, ["insert into raw._dlt_loads values ('1796650100.0', 'alpha_vantage', 0)"])
    execute(settings, ["insert into raw._dlt_loads values ('1796650200.0', 'fear_greed', 1)"])  # not completed
    scope = build_scope(settings, list(PROVIDERS))
    assert not scope.everything and scope.providers == ["alpha_vantage"]
    assert build_scope(settings, list(PROVIDERS), lake_changed=True).providers == ["alpha_vantage", "lake"]

    # A raw table appearing (a pro key's first candles): the staging view reading it changes.
    execute(settings, ["create table raw.coingecko_ohlc (coin_id text)"])
    assert build_scope(settings, list(PROVIDERS)).everything, "a new raw table is a project change"
    record_build(settings, build_scope(settings, list(PROVIDERS)))
    with (project / "seeds" / "known_gaps.csv").open("a") as gaps:
        gaps.write("MSFT,2026-01-02,2026-01-02,test\n")
    assert build_scope(settings, list(PROVIDERS)).everything, "an acknowledged gap is a project change"
    assert build_scope(settings, list(PROVIDERS), full_refresh=True).everything
