"""CoinGecko parsing on the real recorded payloads, the request windows, and the paid plans'
hourly candles loaded from the emulator."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest

from extract.backfill import Backfill
from extract.coingecko import calls_per_asset
from extract.coingecko.helpers import chart_rows, chart_windows, hourly_candle_rows, market_rows, ohlc_windows
from extract.coingecko.settings import OHLC_HOURLY_WINDOW_DAYS
from extract.errors import PayloadError
from extract.pipeline import extract_provider, provider_assets
from extract.responses import error_text
from extract.settings import Settings
from flows.runtime.warehouse import query

UTC = dt.UTC
HOUR_MS = 3_600_000


def _ms(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=UTC).timestamp() * 1000)


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


def test_an_hourly_candle_is_the_hour_before_its_close_time():
    """CoinGecko's docs (/coins/{id}/ohlc/range): "The timestamp displayed in the payload
    (response) indicates the end (or close) time of the OHLC data": [11:00, ...] is 10:00's hour."""
    now = dt.datetime(2026, 12, 2, 11, 40, tzinfo=UTC)
    payload = [
        [_ms(2026, 12, 2, 0), 1.0, 2.0, 0.5, 1.5],  # closes at midnight: the previous day's 23:00
        [_ms(2026, 12, 2, 11), 1.5, 2.5, 1.0, 2.0],
        [_ms(2026, 12, 2, 11, 30), 2.0, 2.0, 2.0, 2.0],  # not on a whole hour
        [_ms(2026, 12, 2, 12), 2.0, 3.0, 1.5, 2.5],  # the running hour: closes after now
    ]
    rows = hourly_candle_rows("bitcoin", payload, now)
    assert [(row["candle_hour"], row["candle_date"], row["ts"]) for row in rows] == [
        (dt.datetime(2026, 12, 1, 23, tzinfo=UTC), dt.date(2026, 12, 1), _ms(2026, 12, 2, 0)),
        (dt.datetime(2026, 12, 2, 10, tzinfo=UTC), dt.date(2026, 12, 2), _ms(2026, 12, 2, 11)),
    ]
    assert rows[1] == {
        "coin_id": "bitcoin",
        "ts": _ms(2026, 12, 2, 11),
        "candle_hour": dt.datetime(2026, 12, 2, 10, tzinfo=UTC),
        "candle_date": dt.date(2026, 12, 2),
        "open": 1.5,
        "high": 2.5,
        "low": 1.0,
        "close": 2.0,
    }
    closed_at_now = hourly_candle_rows("bitcoin", payload, dt.datetime(2026, 12, 2, 12, tzinfo=UTC))
    assert len(closed_at_now) == 3, "a candle closing exactly now has closed"


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"error": "coin not found"}, "expected a list of candles, got dict"),
        ([[1764633600000, 90360, 90360, 83989]], "expected [ms, open, high, low, close]"),
        ([[1764633600000, "90360", 90360, 83989, 86281]], "expected [ms, open, high, low, close]"),
    ],
)
def test_a_bad_hourly_candle_names_provider_coin_and_field(payload, words):
    with pytest.raises(PayloadError) as caught:
        hourly_candle_rows("bitcoin", payload, dt.datetime(2026, 12, 2, tzinfo=UTC))
    message = str(caught.value)
    assert "coingecko" in message and "bitcoin" in message and words in message
    if isinstance(payload, list):
        assert "'ohlc'" in message


def test_hourly_candle_windows_are_31_whole_days_from_midnight():
    """CoinGecko's docs: "up to 31 days per request / 744 hourly interval candles"; none is longer."""
    now = dt.datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
    windows = list(ohlc_windows(dt.date(2026, 8, 1), now, OHLC_HOURLY_WINDOW_DAYS))
    assert windows[0][0] == dt.datetime(2026, 8, 1, tzinfo=UTC) and windows[-1][1] == now
    assert all(end - begin <= dt.timedelta(days=31) for begin, end in windows)
    assert all(begin.time() == dt.time(0) for begin, _ in windows), "each starts at a midnight: whole days"
    assert all(end == begin for (_, end), (begin, _) in itertools.pairwise(windows)), "contiguous"
    assert len(windows) == 4


def test_a_pro_backfill_counts_its_candle_calls_too():
    """100 days: 2 chart windows (85 days), 1 daily candle window (180), 4 hourly ones (31)."""
    job = Backfill(dt.date(2024, 1, 1), dt.date(2024, 4, 9))
    now = dt.datetime(2024, 6, 1, tzinfo=UTC)
    plans = {
        plan: calls_per_asset(job, Settings(duckdb_path=None, coingecko_plan=plan), now) for plan in ("demo", "pro")
    }
    assert plans == {"demo": 2, "pro": 2 + 1 + 4}


def test_a_pro_extraction_loads_one_hourly_candle_per_complete_hour(duckdb_settings, emulator):
    urls = emulator.base_urls("pro")
    settings = duckdb_settings.with_overrides(
        coingecko_plan="pro", coingecko_api_key="pro-key", coingecko_base_url=urls["coingecko"]
    )
    now = dt.datetime.now(UTC)
    report = extract_provider("coingecko", settings, now=now)
    assert report.ok and not report.warnings, report.summary_line()

    first = dt.datetime.combine(now.date() - dt.timedelta(days=settings.history_days), dt.time(), UTC)
    complete = int((now.replace(minute=0, second=0, microsecond=0) - first) / dt.timedelta(hours=1))
    sql = "select coin_id, count(*), count(distinct ts) from raw.coingecko_ohlc_hourly group by coin_id"
    coins = provider_assets("coingecko")
    assert {coin: (rows, keys) for coin, rows, keys in query(settings, sql)} == dict.fromkeys(
        coins, (complete, complete)
    )

    rows = query(
        settings, "select ts, candle_hour, candle_date from raw.coingecko_ohlc_hourly where coin_id = 'bitcoin'"
    )
    hours = sorted(dt.datetime.fromtimestamp((ts - HOUR_MS) / 1000, UTC) for ts, _, _ in rows)
    assert hours[0] == first and hours[-1] == now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
    assert all(ts % HOUR_MS == 0 for ts, _, _ in rows), "closed on the whole hour"
    assert all(hour == dt.datetime.fromtimestamp((ts - HOUR_MS) / 1000, UTC) for ts, hour, _ in rows)
    assert all(day == hour.astimezone(UTC).date() for _, hour, day in rows)
    opens = query(
        settings,
        "select d.candle_date, d.open, h.open from raw.coingecko_ohlc as d left join raw.coingecko_ohlc_hourly as h "
        "on d.coin_id = h.coin_id and h.candle_date = d.candle_date and h.ts = d.ts - 86400000 + 3600000",
    )
    assert opens and all(daily == hourly for _, daily, hourly in opens), "each day's first hour opens its daily bar"
