"""CoinGecko parsing on the real recorded payloads, and the request windows."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest

from extract.coingecko.helpers import chart_rows, chart_windows, market_rows
from extract.errors import PayloadError
from extract.responses import error_text

UTC = dt.UTC


def test_real_markets_page_parses_with_its_nulls_and_number_forms(provider_fixtures):
    payload = json.loads((provider_fixtures / "coingecko/coins_markets_usd_page1_250coins_2023-07-28.json").read_text())
    rows = market_rows(payload, dt.date(2023, 7, 28))
    assert len(rows) == 250
    gains = next(row for row in rows if row["id"] == "gains-farm")
    assert gains["high_24h"] is None and gains["price_change_24h"] is None
    shib = next(row for row in rows if row["id"] == "shiba-inu")
    assert shib["current_price"] == pytest.approx(8.36e-06)
    assert all(row["snapshot_date"] == dt.date(2023, 7, 28) for row in rows)


def test_real_market_chart_flattens_to_one_row_per_timestamp(provider_fixtures):
    payload = json.loads(
        (provider_fixtures / "coingecko/market_chart_matic-network_usd_days1_5min_2023-03-15.json").read_text()
    )
    rows = chart_rows("matic-network", payload)
    assert len(rows) == 289
    assert rows[0]["ts"] == 1678836069765 and rows[0]["price"] == pytest.approx(1.1917424918923705)
    assert rows[-1]["ts"] == 1678922408000
    assert {row["point_date"] for row in rows} == {dt.date(2023, 3, 14), dt.date(2023, 3, 15)}
    assert all(row["market_cap"] is not None and row["total_volume"] is not None for row in rows)


def test_a_wrong_type_names_provider_asset_and_field():
    payload = {"prices": [[1678836069765, "1.19"]], "market_caps": [], "total_volumes": []}
    with pytest.raises(PayloadError) as caught:
        chart_rows("matic-network", payload)
    message = str(caught.value)
    assert "coingecko" in message and "matic-network" in message and "'prices'" in message


def test_a_market_entry_with_a_text_price_is_rejected_by_name():
    with pytest.raises(PayloadError, match=r"coingecko asset 'bitcoin'.*current_price"):
        market_rows([{"id": "bitcoin", "current_price": "29309", "last_updated": "2023-07-28T20:03:29.093Z"}], None)


def test_real_error_bodies_read_as_messages(provider_fixtures):
    limited = json.loads((provider_fixtures / "coingecko/error_429_rate_limit_2022-09-29.json").read_text())
    missing = json.loads((provider_fixtures / "coingecko/error_404_could_not_find_coin_2022.json").read_text())
    assert error_text(limited).startswith("You've exceeded the Rate Limit") and "429" in error_text(limited)
    assert error_text(missing) == "Could not find coin with the given id"
    nested = {
        "error": {"status": {"error_code": 10012, "error_message": "Your request exceeds the allowed time range. "}}
    }
    assert error_text(nested) == "Your request exceeds the allowed time range. (error_code 10012)"


def test_windows_cover_whole_days_hourly_and_never_overlap():
    now = dt.datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
    windows = list(chart_windows(dt.date(2025, 11, 22), now))
    assert windows[0][0] == dt.datetime(2025, 11, 22, tzinfo=UTC)
    assert windows[-1][1] == now
    for (_, end), (begin, _) in itertools.pairwise(windows):
        assert begin - end == dt.timedelta(seconds=1), "contiguous, no overlap"
        assert begin.time() == dt.time(0), "each window starts at midnight"
    assert all(dt.timedelta(days=2) <= end - begin <= dt.timedelta(days=90) for begin, end in windows)


def test_a_short_daily_window_is_widened_to_two_days():
    now = dt.datetime(2026, 11, 21, 0, 20, tzinfo=UTC)
    [(begin, end)] = list(chart_windows(dt.date(2026, 11, 21), now))
    assert end - begin >= dt.timedelta(days=2)
