"""The publication gate: bad bars injected through the emulator fail the run with the asset
and day named, and the marts analysts read keep the last good data (write-audit-publish)."""

from __future__ import annotations

import pytest

from extract.registry import PROVIDERS
from extract.settings import Settings
from flows.daily import daily
from flows.summary import RunFailedError
from flows.warehouse import query

pytestmark = pytest.mark.slow
LATEST_IBM = (
    "select db.date, db.close from daily_bars db join assets a on db.asset_id = a.asset_id "
    "where a.symbol = 'IBM' order by db.date desc limit 1"
)


def test_an_impossible_move_blocks_publication_and_names_asset_and_day(live_env):
    assert daily(providers=list(PROVIDERS)).ok
    settings = Settings.from_env()
    good_day, good_close = query(settings, LATEST_IBM)[0]
    published_rows = query(settings, "select count(*) from daily_bars")[0][0]

    def hundredfold_ibm(provider, path, params, body):
        if provider == "alpha_vantage" and params.get("symbol") == "IBM":
            bar = body["Time Series (Daily)"][good_day.isoformat()]
            for field in ("1. open", "2. high", "3. low", "4. close"):
                bar[field] = f"{float(bar[field]) * 100:.4f}"
        return body

    live_env.payload_hooks.append(hundredfold_ibm)
    try:
        with pytest.raises(RunFailedError) as failed:
            daily(providers=["alpha_vantage"])
    finally:
        live_env.payload_hooks.remove(hundredfold_ibm)
    message = str(failed.value)
    assert "impossible_moves_daily_bars" in message
    assert "symbol=IBM" in message and f"date={good_day}" in message
    assert query(settings, LATEST_IBM) == [(good_day, good_close)], "published marts keep the last good data"
    assert query(settings, "select count(*) from daily_bars")[0][0] == published_rows
    audited = query(settings, LATEST_IBM.replace("daily_bars db", "audit.daily_bars db"))
    assert audited[0][1] == pytest.approx(good_close * 100), "the bad bar only reached the audit schema"

    assert daily(providers=["alpha_vantage"]).ok, "the next clean run publishes again"
    assert query(settings, LATEST_IBM) == [(good_day, good_close)]
