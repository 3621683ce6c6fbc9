"""Extractors against a misbehaving emulator, over real HTTP: every fault is survived or
reported by name, other assets go on, and nothing already loaded is lost."""

from __future__ import annotations

import itertools
import logging

import pytest

from extract.emulator.server import Emulator, EmulatorConfig, Fault
from extract.pipeline import extract_provider, provider_assets
from flows.runtime.warehouse import query

COINS = provider_assets("coingecko")
SYMBOLS = provider_assets("alpha_vantage")


@pytest.fixture
def fresh_emulator():
    """An emulator of the test's own, for faults and limits that must not leak."""
    with Emulator(config=EmulatorConfig(retry_after_seconds=1)) as running:
        yield running


def _point_at(settings, emulator, **changes):
    urls = emulator.base_urls()
    return settings.with_overrides(
        coingecko_base_url=urls["coingecko"],
        alpha_vantage_base_url=urls["alpha_vantage"],
        fear_greed_base_url=urls["fear_greed"],
        **changes,
    )


def test_a_429_storm_is_waited_out_with_retry_after(duckdb_settings, fresh_emulator):
    settings = _point_at(duckdb_settings, fresh_emulator, workers=1)
    fresh_emulator.inject(
        Fault("coingecko", status=429, body=b'{"status":{"error_code":429}}', headers={"Retry-After": "1"},
              path_contains="/coins/bitcoin/"),
        times=3,
    )  # fmt: skip
    report = extract_provider("coingecko", settings)
    assert report.ok, report.summary_line()
    bitcoin = [r for r in fresh_emulator.requests if "/coins/bitcoin/" in r.path]
    assert [r.status for r in bitcoin[:4]] == [429, 429, 429, 200]
    waits = [b.at - a.at for a, b in itertools.pairwise(bitcoin[:4])]
    assert all(wait >= 0.9 for wait in waits), f"Retry-After honoured between attempts: {waits}"


@pytest.mark.parametrize("client_budget", [True, False])
def test_a_client_budget_at_the_providers_limit_meets_no_429(duckdb_settings, client_budget):
    """7 calls against a limit of 3 per (2-second) window, from 3 concurrent workers."""
    limits = EmulatorConfig(per_minute={"coingecko": 3}, window_seconds=2, retry_after_seconds=1)
    with Emulator(config=limits) as limited:
        budget = {"per_minute": 3 if client_budget else None, "per_day": None, "window_seconds": 2}
        settings = _point_at(duckdb_settings, limited, budgets={"coingecko": budget}, workers=3)
        report = extract_provider("coingecko", settings)
    assert report.ok, report.summary_line()
    statuses = [r.status for r in limited.requests]
    if client_budget:
        assert statuses == [200] * 7, "the budget waits instead of colliding with the limit"
    else:
        assert statuses.count(429) > 0 and statuses.count(200) == 7, "without it the limit is hit (and survived)"


def test_5xx_and_timeouts_are_retried_with_backoff(duckdb_settings, fresh_emulator):
    # A timeout of 2 s against a 5 s stall: wide enough that a busy machine's ordinary answers
    # (the markets call of 250 ids) never time out, while the stalled one always does.
    settings = _point_at(duckdb_settings, fresh_emulator, request_timeout=2.0, workers=1)
    fresh_emulator.inject(Fault("coingecko", status=503, body=b"busy", path_contains="/coins/ethereum/"), times=2)
    fresh_emulator.inject(Fault("coingecko", delay=5.0, path_contains="/coins/solana/"))
    report = extract_provider("coingecko", settings)
    assert report.ok, report.summary_line()
    loaded = {row[0] for row in query(settings, "select distinct coin_id from raw.coingecko_market_chart")}
    assert loaded == set(COINS)


def test_alpha_vantage_throttle_notes_are_retried_and_never_loaded(duckdb_settings, fresh_emulator, provider_fixtures):
    note = (provider_fixtures / "alpha_vantage/note_rate_limit_5_per_minute_2018.json").read_bytes()
    fresh_emulator.inject(Fault("alpha_vantage", body=note), times=2)
    settings = _point_at(duckdb_settings, fresh_emulator, workers=1, alpha_vantage_api_key="premium-key")
    report = extract_provider("alpha_vantage", settings)
    assert report.ok, report.summary_line()
    assert report.calls == len(SYMBOLS) + 2
    notes = query(duckdb_settings, "select count(*) from raw.alpha_vantage_daily where _1_open is null")
    assert notes == [(0,)]


def test_a_configured_premium_plan_refused_falls_back_to_free_and_says_so(duckdb_settings, fresh_emulator):
    """ALPHAVANTAGE_PLAN=premium with a free key: the first refusal switches the run to the free
    plan (not retried, no symbol lost), with a warning naming the setting."""
    settings = _point_at(duckdb_settings, fresh_emulator, workers=1, alpha_vantage_plan="premium")
    report = extract_provider("alpha_vantage", settings)
    assert report.ok and report.assets_ok == len(SYMBOLS), report.summary_line()
    assert any("ALPHAVANTAGE_PLAN=premium" in warning for warning in report.warnings)
    functions = [r.query["function"] for r in fresh_emulator.requests if r.query.get("function", "").startswith("TIME")]
    assert functions[:2] == ["TIME_SERIES_DAILY_ADJUSTED", "TIME_SERIES_DAILY"], "one refused call, then free"
    assert functions.count("TIME_SERIES_DAILY_ADJUSTED") == 1


def test_truncated_json_fails_only_that_asset_by_name(duckdb_settings, fresh_emulator):
    fresh_emulator.inject(Fault("coingecko", truncate=True, path_contains="/coins/cardano/"))
    report = extract_provider("coingecko", _point_at(duckdb_settings, fresh_emulator))
    assert list(report.failures) == ["cardano"]
    assert "coingecko asset 'cardano': invalid or truncated JSON" in report.failures["cardano"]
    assert report.assets_ok == len(COINS) - 1


def test_a_spent_day_budget_ends_the_run_cleanly(duckdb_settings, fresh_emulator):
    budgets = {"alpha_vantage": {"per_minute": None, "per_day": 3}}
    settings = _point_at(
        duckdb_settings, fresh_emulator, budgets=budgets, workers=1, alpha_vantage_api_key="premium-key"
    )
    report = extract_provider("alpha_vantage", settings)
    assert report.ok and report.assets_ok == 3
    assert len(report.deferred) == len(SYMBOLS) - 3
    assert "day budget of 3 calls exhausted" in report.summary_line()
    loaded = query(settings, "select count(distinct symbol) from raw.alpha_vantage_daily")
    assert loaded == [(3,)]
    resumed = extract_provider("alpha_vantage", settings.with_overrides(budgets={}))
    assert resumed.ok
    assert query(settings, "select count(distinct symbol) from raw.alpha_vantage_daily") == [(len(SYMBOLS),)]


def test_the_key_is_redacted_from_connection_errors_and_logs(duckdb_settings, caplog):
    dead = "http://127.0.0.1:9"  # nothing listens on the discard port
    settings = duckdb_settings.with_overrides(
        alpha_vantage_base_url=dead, alpha_vantage_api_key="SECRET-av-key-123", backoff_factor=0.01, workers=1
    )
    with caplog.at_level(logging.DEBUG):
        report = extract_provider("alpha_vantage", settings)
    assert len(report.failures) == len(SYMBOLS)
    reason = next(iter(report.failures.values()))
    assert "ConnectionError" in reason and "apikey=***" in reason
    assert "SECRET" not in report.summary_line()
    assert "SECRET" not in caplog.text
