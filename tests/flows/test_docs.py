"""dbt docs on a real DuckDB warehouse (offline extract from the emulator, dbt seed + run),
generated with every non-loopback connection refused."""

from __future__ import annotations

import json
import socket

import pytest

from extract.pipeline import extract_provider
from extract.registry import PROVIDERS
from flows.commands.docs import build_docs
from flows.runtime.dbt import invoke_dbt

pytestmark = pytest.mark.slow


@pytest.fixture
def no_internet(monkeypatch):
    """Fail any socket connection that leaves the machine (the emulator is on loopback)."""
    real_connect = socket.socket.connect

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not host.startswith(("127.", "::1", "localhost", "/")):
            raise OSError(f"test forbids network access to {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


def test_build_docs_writes_a_site_whose_catalog_lists_the_marts(duckdb_settings, tmp_path, no_internet):
    target = tmp_path / "dbt-target"  # not the project's target/, which other runs use
    for provider in PROVIDERS:
        assert extract_provider(provider, duckdb_settings).ok
    invoke_dbt(["seed", "--target-path", str(target)], duckdb_settings)
    invoke_dbt(["run", "--target-path", str(target)], duckdb_settings)

    index = build_docs(duckdb_settings, target_path=target)

    assert index == target / "index.html"
    assert index.stat().st_size > 10_000
    assert (target / "static_index.html").stat().st_size > index.stat().st_size, "manifest and catalog inlined"
    catalog = json.loads((target / "catalog.json").read_text())
    daily_bars = catalog["nodes"]["model.market_elt.daily_bars"]
    assert daily_bars["metadata"]["name"] == "daily_bars"
    assert {"asset_id", "date", "close", "dollar_volume"} <= {name.lower() for name in daily_bars["columns"]}
    assert "model.market_elt.observations" in catalog["nodes"]
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["nodes"]["model.market_elt.daily_bars"]["description"], "descriptions reach the docs"
