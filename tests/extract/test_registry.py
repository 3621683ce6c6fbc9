"""The provider registry is the one list of providers: what each entry declares matches the dbt
project and the emulator, so a new provider is a package and a registry line, and nothing drifts."""

from __future__ import annotations

import importlib

import yaml

from extract.alpaca import lake
from extract.coingecko.settings import MARKET_NUMERIC_FIELDS
from extract.registry import PROVIDERS
from extract.settings import DBT_PROJECT_DIR, Settings


def _dbt_sources() -> dict[str, set[str]]:
    sources: dict[str, set[str]] = {}
    for path in (DBT_PROJECT_DIR / "models" / "staging").glob("*/_*__sources.yml"):
        for source in yaml.safe_load(path.read_text())["sources"]:
            sources.setdefault(source["name"], set()).update(table["name"] for table in source["tables"])
    return sources


def test_every_raw_table_of_a_provider_is_a_dbt_source_of_its_name():
    sources = _dbt_sources()
    for name, spec in PROVIDERS.items():
        assert set(spec.raw_tables) <= sources.get(name, set()), name
    # Besides the providers' raw schemas: the Parquet lake Alpaca's intraday backfill writes.
    assert set(sources) == set(PROVIDERS) | {"lake"}, "no source without a provider"
    assert sources["lake"] == set(lake.DATASETS.values()), "the lake's datasets are its tables"


def test_the_snapshot_metrics_are_the_same_list_in_python_and_dbt():
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    assert project["vars"]["coingecko_market_metrics"] == list(MARKET_NUMERIC_FIELDS)


def test_every_provider_has_emulator_routes_and_its_budget_variables(monkeypatch):
    for name, spec in PROVIDERS.items():
        routes = importlib.import_module(spec.emulator)
        assert name == routes.PROVIDER
        assert all(callable(getattr(routes, f)) for f in ("serves", "base_url", "respond", "rate_limited"))
        monkeypatch.setenv(f"{spec.env_prefix}_CALLS_PER_MINUTE", "7")
    budgets = Settings.from_env().budgets
    assert {name: budgets[name]["per_minute"] for name in PROVIDERS} == dict.fromkeys(PROVIDERS, 7)
