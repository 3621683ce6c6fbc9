"""A provider outage: the other providers' data is loaded and published, the run fails, and
the run log and `market-elt status` tell the truth about it."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from extract.assets import load_assets
from extract.emulator.server import Fault
from extract.pipeline import provider_assets
from extract.settings import Settings
from flows.commands.status import as_json, collect_status
from flows.daily import daily
from flows.runtime.summary import RunFailedError
from flows.runtime.warehouse import query

pytestmark = pytest.mark.slow


def test_a_coingecko_outage_leaves_the_others_loaded_and_the_run_log_truthful(live_env):
    live_env.inject(Fault("coingecko", status=503, body=b"upstream connect error"), times=500)
    with pytest.raises(RunFailedError, match="coingecko"):
        daily()
    settings = Settings.from_env()
    equities = provider_assets("alpha_vantage")
    assert query(settings, "select count(distinct symbol) from raw.alpha_vantage_daily")[0][0] == len(equities)
    assert query(settings, "select count(*) from raw.fear_greed_index")[0][0] > 3000

    runs = {
        row[0]: row[1:]
        for row in query(settings, "select provider, status, assets_failed, failures, run_status from ops.run_log")
    }
    coins = provider_assets("coingecko")
    status, failed, failures, _ = runs["coingecko"]
    assert {row[3] for row in runs.values()} == {"failed"}, "every row carries the run's outcome"
    assert status == "failed" and failed == len(coins) + 1  # every coin and the markets batch
    assert "HTTP 503" in json.loads(failures)["bitcoin"]
    assert runs["alpha_vantage"][:2] == ("ok", 0) and runs["fear_greed"][:2] == ("ok", 0)
    published = query(settings, "select count(distinct asset_id) from daily_bars")[0][0]
    assert published == len(equities), "the equities were still published"

    report = collect_status(settings)
    missing = {row["symbol"] for row in report["missing_last_expected_bar"]}
    crypto = {a.symbol for a in load_assets() if a.is_active and a.asset_type == "crypto"}
    assert missing == crypto, "status names the crypto assets the outage left without bars"
    latest = {row["asset_type"]: row for row in report["latest_by_asset_type"]}
    assert "crypto" not in latest and latest["equity"]["max(date)"] is not None
    parsed = json.loads(as_json(report))
    assert {row["provider"] for row in parsed["last_runs"]} == {"coingecko", "alpha_vantage", "alpaca", "fear_greed"}
    assert {row["source"] for row in parsed["freshness"]} == {"alpha_vantage", "fear_greed"}
    assert dt.date.fromisoformat(parsed["as_of"][:10]) == dt.datetime.now(dt.UTC).date()
