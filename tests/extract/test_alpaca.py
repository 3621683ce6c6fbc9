"""Alpaca Market Data v2 daily bars: the pure helpers on payloads shaped exactly like the SDKs'
own test fixtures, the New York dating of bars, Alpaca's error answers, and the source against
the emulator over HTTP into a temporary DuckDB (pagination across symbols, per-symbol cursors,
429s, refused keys, missing keys)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections import deque

import pytest
import requests

import extract.alpaca as alpaca_source
from extract.alpaca import backfill_end, symbol_batches
from extract.alpaca.client import NO_KEYS
from extract.alpaca.helpers import NEW_YORK, answer_error, answer_text, bar_date, bar_rows, reset_delay
from extract.backfill import Backfill
from extract.calendars import last_closed_session, sessions
from extract.emulator import alpaca as alpaca_routes
from extract.emulator import payloads
from extract.emulator.market import SyntheticMarket
from extract.emulator.server import Emulator, EmulatorConfig, Fault
from extract.errors import ConfigurationError, PayloadError, ProviderError
from extract.pipeline import backfill_provider, extract_provider
from extract.ratelimit import RateBudget
from extract.settings import Settings
from flows.runtime.offline import provider_settings
from flows.runtime.warehouse import query

UTC = dt.UTC
SYMBOLS = ["AAPL", "MSFT", "IBM"]
KEY_ID, SECRET = "offline-key-id", "offline-secret"

# alpacahq/alpaca-trade-api-go, marketdata/rest_test.go, TestGetMultiBars (2021-11-23): summer
# daily bars, stamped 04:00Z (New York midnight, EDT), the last page.
GO_MULTI_BARS = (
    '{"bars":{"AAPL":[{"t":"2021-10-13T04:00:00Z","o":141.21,"h":141.4,"l":139.2,"c":140.91,"v":78993712,'
    '"n":595435,"vw":140.361873},{"t":"2021-10-14T04:00:00Z","o":142.08,"h":143.88,"l":141.51,"c":143.76,'
    '"v":69696731,"n":445634,"vw":143.216983},{"t":"2021-10-15T04:00:00Z","o":144.13,"h":144.895,"l":143.51,'
    '"c":144.84,"v":67393148,"n":426182,"vw":144.320565}],"NIO":[{"t":"2021-10-13T04:00:00Z","o":35.75,'
    '"h":36.68,"l":35.47,"c":36.24,"v":33394068,"n":177991,"vw":36.275125},{"t":"2021-10-14T04:00:00Z",'
    '"o":36.09,"h":36.45,"l":35.605,"c":36.28,"v":29890265,"n":166379,"vw":36.00485},'
    '{"t":"2021-10-15T04:00:00Z","o":37,"h":38.29,"l":36.935,"c":37.71,"v":48138793,"n":257074,'
    '"vw":37.647123}]},"next_page_token":null}'
)
# alpacahq/alpaca-py, tests/data/test_historical_stock_data.py, test_multisymbol_get_bars (2022-03):
# winter daily bars, stamped 05:00Z (New York midnight, EST); integer prices ("o": 839) occur.
PY_MULTI_BARS = """
    {
        "bars": {
            "AAPL": [
                {"t": "2022-03-09T05:00:00Z", "o": 161.51, "h": 163.41, "l": 159.41, "c": 162.95,
                 "v": 88496480, "n": 700291, "vw": 161.942117}
            ],
            "TSLA": [
                {"t": "2022-03-09T05:00:00Z", "o": 839, "h": 860.56, "l": 832.01, "c": 858.97,
                 "v": 19227323, "n": 528531, "vw": 850.616587}
            ]
        },
        "next_page_token": null
    }
"""
# The Go SDK's paged fixture (TestGetBarsWithPageLimit's first page token, 2022-06): base64 of
# "SYMBOL|D|time"; the emulator writes its tokens the same way.
GO_PAGE_TOKEN = "TUVUQXxEfDIwMjItMDYtMTNUMDQ6MDA6MDAuMDAwMDAwMDAwWg=="


def _alpaca(settings: Settings, emulator: Emulator, **changes) -> Settings:
    keys = {
        "alpaca_base_url": emulator.base_urls()["alpaca"],
        "alpaca_api_key_id": KEY_ID,
        "alpaca_api_secret_key": SECRET,
    }
    return settings.with_overrides(**(keys | changes))


def _rows(settings: Settings) -> list[tuple]:
    return query(settings, "select symbol, bar_date, t, close, volume from raw.alpaca_daily_bars order by 1, 2")


def _expected_days(start: dt.date, now: dt.datetime) -> list[dt.date]:
    return [day for day in sessions("XNYS", start, last_closed_session("XNYS", now))]


def _first_day(now: dt.datetime, settings: Settings) -> dt.date:
    """A first run's start: the history window back from today in New York, as bars are dated."""
    return now.astimezone(NEW_YORK).date() - dt.timedelta(days=settings.history_days)


def _bar_requests(emulator: Emulator, since: int) -> list:
    return [r for r in emulator.requests[since:] if r.provider == "alpaca"]


# ---------------------------------------------------------------- pure helpers


def test_the_go_sdk_fixture_parses_into_rows_dated_in_new_york():
    page = bar_rows(json.loads(GO_MULTI_BARS), "iex", "raw")
    assert page.next_page_token is None and not page.bad
    assert list(page.rows) == ["AAPL", "NIO"] and all(len(rows) == 3 for rows in page.rows.values())
    assert page.rows["AAPL"][0] == {
        "symbol": "AAPL",
        "t": "2021-10-13T04:00:00Z",
        "bar_date": dt.date(2021, 10, 13),
        "open": 141.21,
        "high": 141.4,
        "low": 139.2,
        "close": 140.91,
        "volume": 78993712.0,
        "trade_count": 595435,
        "vwap": 140.361873,
        "feed": "iex",
        "adjustment": "raw",
    }
    assert [row["bar_date"] for row in page.rows["NIO"]] == [dt.date(2021, 10, 13 + i) for i in range(3)]
    assert page.rows["NIO"][1]["vwap"] == 36.00485


def test_the_alpaca_py_fixture_parses_its_winter_stamps_and_integer_prices():
    page = bar_rows(json.loads(PY_MULTI_BARS), "sip", "raw")
    assert {symbol: rows[0]["bar_date"] for symbol, rows in page.rows.items()} == {
        "AAPL": dt.date(2022, 3, 9),
        "TSLA": dt.date(2022, 3, 9),
    }
    tsla = page.rows["TSLA"][0]
    assert tsla["open"] == 839.0 and isinstance(tsla["open"], float) and tsla["feed"] == "sip"


def test_an_empty_answer_is_no_data():
    """alpaca-py test_get_bars_multi_empty_response; `"bars": null` as the single-symbol endpoint answers."""
    for body in ('{"bars": {}, "next_page_token": null}', '{"bars": null, "next_page_token": null}'):
        page = bar_rows(json.loads(body), "iex", "raw")
        assert page.rows == {} and page.bad == {} and page.next_page_token is None


@pytest.mark.parametrize(
    ("stamp", "day"),
    [
        ("2021-10-13T04:00:00Z", dt.date(2021, 10, 13)),  # EDT: New York midnight is 04:00Z
        ("2022-03-09T05:00:00Z", dt.date(2022, 3, 9)),  # EST: 05:00Z
        ("2022-03-09T04:59:59Z", dt.date(2022, 3, 8)),  # still the evening before in New York
        ("2022-06-13T04:00:00.000000000Z", dt.date(2022, 6, 13)),  # nanoseconds, as in page tokens
        ("2026-11-02T05:00:00Z", dt.date(2026, 11, 2)),  # the Monday after DST ended (2026-11-01)
    ],
)
def test_a_bar_is_dated_by_new_york_midnight(stamp, day):
    assert bar_date(stamp) == day


@pytest.mark.parametrize(
    ("bar", "field", "words"),
    [
        ({"c": "36.24"}, "c", "expected a number"),
        ({"t": "2021-10-13"}, "t", "expected an RFC 3339 time"),
        ({"t": None}, "t", "expected an RFC 3339 time"),
        ({"v": True}, "v", "expected a number"),
        ({"n": 17.5}, "n", "expected an integer"),
        ({"vw": "36.2"}, "vw", "expected a number"),
    ],
)
def test_a_bad_bar_fails_its_symbol_by_name_and_field_and_the_others_stand(bar, field, words):
    payload = json.loads(GO_MULTI_BARS)
    payload["bars"]["NIO"][1].update(bar)
    page = bar_rows(payload, "iex", "raw")
    assert list(page.rows) == ["AAPL"] and len(page.rows["AAPL"]) == 3
    error = page.bad["NIO"]
    assert isinstance(error, PayloadError) and error.field == field
    message = str(error)
    assert message.startswith("alpaca asset 'NIO'") and f"(field {field!r})" in message and words in message


def test_a_bar_without_trade_count_and_vwap_keeps_them_null():
    """`n` and `vw` were added to v2 bars in 2021: older answers lack them."""
    payload = {"bars": {"AAPL": [{"t": "2021-03-01T05:00:00Z", "o": 1, "h": 2, "l": 0.5, "c": 1.5, "v": 10}]}}
    [row] = bar_rows(payload, "iex", "raw").rows["AAPL"]
    assert row["trade_count"] is None and row["vwap"] is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], None),
        ({"next_page_token": None}, "bars"),
        ({"bars": [], "next_page_token": None}, "bars"),
        ({"bars": {}, "next_page_token": 7}, "next_page_token"),
    ],
)
def test_a_page_of_another_shape_is_refused_for_the_request(payload, field):
    with pytest.raises(PayloadError) as caught:
        bar_rows(payload, "iex", "raw")
    assert caught.value.provider == "alpaca" and caught.value.asset is None and caught.value.field == field


def test_error_answers_say_what_to_change():
    refused = answer_error(401, alpaca_routes.UNAUTHORIZED_PAGE)
    assert isinstance(refused, ConfigurationError)
    assert "401 Authorization Required" in str(refused) and "<" not in str(refused)
    assert "ALPACA_API_KEY_ID" in str(refused) and "ALPACA_API_SECRET_KEY" in str(refused)
    json_401 = answer_error(401, b'{"message": "unauthorized."}')
    assert isinstance(json_401, ConfigurationError) and "unauthorized." in str(json_401)
    sip = answer_error(403, json.dumps(alpaca_routes.SIP_NOT_PERMITTED).encode())
    assert isinstance(sip, ConfigurationError)
    assert "subscription does not permit querying recent SIP data" in str(sip) and "ALPACA_FEED=iex" in str(sip)
    older_403 = answer_error(403, b'{"message": "forbidden."}')  # 2021 threads: wrong keys answered 403
    assert isinstance(older_403, ConfigurationError) and "ALPACA_API_KEY_ID" in str(older_403)
    bad_parameters = {
        400: b'{"message":"end should not be before start"}',
        422: b'{"code": 42210000, "message": "invalid timeframe"}',  # 2021 threads
    }
    for status, body in bad_parameters.items():
        error = answer_error(status, body)
        assert type(error) is ProviderError and f"HTTP {status}" in str(error)
    assert answer_text(b'{"code": 42210000, "message": "invalid timeframe"}') == "invalid timeframe (code 42210000)"
    assert "too many requests." in str(answer_error(429, b'{"message": "too many requests."}'))


def test_the_rate_limit_reset_header_gives_the_wait():
    assert reset_delay({"X-RateLimit-Reset": "1000"}, 997.5) == 2.5
    assert reset_delay({"X-RateLimit-Reset": "1000"}, 1001) is None, "already past"
    assert reset_delay({}, 1000) is None and reset_delay({"X-RateLimit-Reset": "soon"}, 1000) is None


def test_a_paused_budget_starts_no_call_before_the_quota_turns():
    """What X-RateLimit-Reset does to the run's budget (extract/ratelimit.py: RateBudget.pause)."""
    clock = {"now": 100.0, "slept": []}

    def sleep(seconds: float) -> None:
        clock["slept"].append(seconds)
        clock["now"] += seconds

    budget = RateBudget("alpaca", per_minute=None, per_day=None, clock=lambda: clock["now"], sleep=sleep)
    budget.pause(2.5)
    with budget.call():
        pass
    assert clock["slept"] == [2.5] and clock["now"] == 102.5
    with budget.call():
        pass
    assert clock["slept"] == [2.5], "the pause is over"


def test_requests_group_symbols_by_their_start_day_and_end_on_the_last_bar():
    day, later = dt.date(2026, 1, 5), dt.date(2026, 3, 2)
    starts = {f"S{i:03d}": day for i in range(150)} | {"AAPL": later}
    batches = symbol_batches(starts)
    assert [len(batch) for batch in batches.values()] == [100, 51], "in order of their start day"
    first, second = batches.values()
    assert second[-1] == "AAPL" and "AAPL" not in first
    # A backfill's end is New York midnight of its last day (that bar's own time), never within
    # 15 minutes of now (the free plan's SIP delay).
    job = Backfill(dt.date(2026, 1, 5), dt.date(2026, 1, 9))
    assert backfill_end(job, dt.datetime(2026, 6, 1, tzinfo=UTC)) == "2026-01-09T05:00:00Z"
    today = Backfill(dt.date(2026, 6, 1), dt.date(2026, 6, 1))
    assert backfill_end(today, dt.datetime(2026, 6, 1, 4, 10, tzinfo=UTC)) == "2026-06-01T03:54:00Z"


def test_settings_read_the_alpaca_variables_and_hide_the_keys(monkeypatch):
    for name, value in {
        "ALPACA_API_KEY_ID": "PKTESTKEYID",
        "ALPACA_API_SECRET_KEY": "s3cr3t-value",
        "ALPACA_FEED": "SIP",
        "ALPACA_PLAN": "plus",
        "SOURCES__ALPACA__BASE_URL": "http://127.0.0.1:9/",
        "ALPACA_CALLS_PER_MINUTE": "150",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    assert (settings.alpaca_feed, settings.alpaca_plan, settings.alpaca_base_url) == (
        "sip",
        "plus",
        "http://127.0.0.1:9",
    )
    assert settings.budgets["alpaca"] == {"per_minute": 150}
    assert "PKTESTKEYID" not in repr(settings) and "s3cr3t-value" not in repr(settings)
    monkeypatch.setenv("ALPACA_FEED", "otc")
    with pytest.raises(ValueError, match="ALPACA_FEED"):
        Settings.from_env()


# ---------------------------------------------------------------- the emulator


def _get(emulator: Emulator, **params) -> requests.Response:
    headers = {"APCA-API-KEY-ID": KEY_ID, "APCA-API-SECRET-KEY": SECRET}
    return requests.get(f"{emulator.base_urls()['alpaca']}/v2/stocks/bars", params=params, headers=headers, timeout=10)


def test_the_emulator_pages_across_symbols_every_bar_exactly_once(emulator):
    params = {"symbols": "MSFT,AAPL,NOPE,TSCO.LON", "timeframe": "1Day", "start": "2026-09-01", "feed": "iex"}
    params["end"] = "2026-10-30T04:00:00Z"
    whole = _get(emulator, **params, limit=10000).json()
    assert list(whole["bars"]) == ["AAPL", "MSFT"], "sorted by symbol; unknown and non-US symbols left out"
    assert whole["next_page_token"] is None
    paged, token, pages = [], None, 0
    while True:
        body = _get(emulator, **params, limit=7, **({"page_token": token} if token else {})).json()
        pages += 1
        bars = [(symbol, bar) for symbol, bars in body["bars"].items() for bar in bars]
        assert len(bars) <= 7, "the limit counts bars across symbols"
        paged += bars
        token = body["next_page_token"]
        if token is None:
            break
        symbol, kind, at = base64.b64decode(token).decode().split("|")
        assert (symbol, kind, at) == (bars[-1][0], "D", bars[-1][1]["t"].replace("Z", ".000000000Z"))
    assert paged == [(symbol, bar) for symbol, bars in whole["bars"].items() for bar in bars]
    assert pages == -(-len(paged) // 7) and len({(s, b["t"]) for s, b in paged}) == len(paged)
    assert base64.b64decode(GO_PAGE_TOKEN).decode() == "META|D|2022-06-13T04:00:00.000000000Z", "same format"


def test_the_emulators_bars_are_alpha_vantages_unadjusted_sessions(emulator):
    now = dt.datetime.now(UTC)
    body = _get(emulator, symbols="AAPL", timeframe="1Day", start="2020-08-20", end="2020-09-10", feed="iex").json()
    av = payloads.av_daily("AAPL", SyntheticMarket().equity("AAPL"), "TIME_SERIES_DAILY", "full", now)
    series = av["Time Series (Daily)"]
    for bar in body["bars"]["AAPL"]:
        day = bar_date(bar["t"])
        assert bar["t"] == f"{day.isoformat()}T04:00:00Z", "summer: New York midnight is 04:00Z"
        assert bar["c"] == float(series[day.isoformat()]["4. close"]) and bar["v"] == int(
            series[day.isoformat()]["5. volume"]
        )
        assert bar["l"] <= bar["vw"] <= bar["h"] and 0 < bar["n"] < bar["v"]
    closes = {bar_date(bar["t"]): bar["c"] for bar in body["bars"]["AAPL"]}
    assert closes[dt.date(2020, 8, 28)] / closes[dt.date(2020, 8, 31)] > 3, "unadjusted: the 4:1 split shows"
    winter = _get(emulator, symbols="IBM", timeframe="1Day", start="2026-01-05", end="2026-01-06", feed="iex").json()
    assert [bar["t"] for bar in winter["bars"]["IBM"]] == ["2026-01-05T05:00:00Z"], "end is inclusive, at 00:00Z"


def test_the_emulator_answers_errors_like_alpaca(emulator):
    keyless = requests.get(f"{emulator.base_urls()['alpaca']}/v2/stocks/bars", params={"symbols": "AAPL"}, timeout=10)
    assert keyless.status_code == 401 and keyless.headers["Content-Type"].startswith("text/html")
    assert "<h1>401 Authorization Required</h1>" in keyless.text
    bad_start = _get(emulator, symbols="AAPL", timeframe="1Day", start="not-a-date")
    assert bad_start.status_code == 400
    assert bad_start.json()["message"].startswith(
        "Invalid format for parameter start: error parsing 'not-a-date' as RFC3339 or 2006-01-02 time"
    )
    backwards = _get(emulator, symbols="AAPL", timeframe="1Day", start="2026-03-05", end="2026-03-01")
    assert backwards.status_code == 400 and backwards.json() == {"message": "end should not be before start"}
    assert _get(emulator, timeframe="1Day").json() == alpaca_routes.SYMBOLS_REQUIRED
    recent = (dt.datetime.now(UTC) - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sip = _get(emulator, symbols="AAPL", timeframe="1Day", start="2026-01-05", end=recent, feed="sip")
    assert sip.status_code == 403 and sip.json() == {"message": "subscription does not permit querying recent SIP data"}
    delayed = _get(emulator, symbols="AAPL", timeframe="1Day", start="2026-01-05", feed="sip")
    assert delayed.status_code == 200, "without end, SIP data ends 15 minutes ago on the free plan"
    assert all(name in delayed.headers for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"))
    assert delayed.headers["X-RateLimit-Limit"] == "200"


def test_the_free_plans_limit_answers_429_without_retry_after():
    with Emulator(config=EmulatorConfig(window_seconds=60)) as limited:
        limited.route_state["alpaca"] = {"calls": {KEY_ID: deque([time.time()] * 200)}}  # the minute's 200 calls
        throttled = _get(limited, symbols="AAPL", timeframe="1Day", start="2026-01-05")
    assert throttled.status_code == 429 and throttled.json() == {"message": "too many requests."}
    assert "Retry-After" not in throttled.headers
    assert throttled.headers["X-RateLimit-Remaining"] == "0" and throttled.headers["X-RateLimit-Limit"] == "200"
    assert 0 < int(throttled.headers["X-RateLimit-Reset"]) - time.time() <= 61
    assert limited.throttled == {"alpaca": 1}


# ---------------------------------------------------------------- the source over HTTP


def test_pages_across_symbols_load_every_bar_exactly_once(duckdb_settings, emulator, monkeypatch):
    monkeypatch.setattr(alpaca_source, "PAGE_LIMIT", 7)
    settings = _alpaca(duckdb_settings, emulator)
    now = dt.datetime.now(UTC)
    before = len(emulator.requests)
    report = extract_provider("alpaca", settings, now=now, assets=[*SYMBOLS, "NOPE"])
    assert report.ok and report.assets_ok == 3, report.summary_line()
    days = _expected_days(_first_day(now, settings), now)
    rows = _rows(settings)
    assert [(symbol, day) for symbol, day, *_ in rows] == [(s, d) for s in sorted(SYMBOLS) for d in days]
    calls = _bar_requests(emulator, before)
    assert len(calls) == -(-len(rows) // 7) and sum("page_token" in call.query for call in calls) == len(calls) - 1
    first = calls[0].query
    assert first["symbols"] == "AAPL,IBM,MSFT,NOPE" and first["limit"] == "7"
    assert (first["timeframe"], first["adjustment"], first["feed"], first["sort"]) == ("1Day", "raw", "iex", "asc")
    assert "end" not in first and first["start"] == _first_day(now, settings).isoformat()
    [warning] = report.warnings
    assert "NOPE" in warning and "no bars" in warning and "AAPL" not in warning
    types = dict(
        query(
            settings,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'alpaca_daily_bars' and column_name not like '_dlt%'",
        )
    )
    assert types == {
        "symbol": "VARCHAR", "t": "VARCHAR", "bar_date": "DATE", "open": "DOUBLE", "high": "DOUBLE",
        "low": "DOUBLE", "close": "DOUBLE", "volume": "DOUBLE", "trade_count": "BIGINT", "vwap": "DOUBLE",
        "feed": "VARCHAR", "adjustment": "VARCHAR",
    }  # fmt: skip


def test_a_second_run_refetches_only_each_symbols_lag_days(duckdb_settings, emulator):
    settings = _alpaca(duckdb_settings, emulator)
    now = dt.datetime.now(UTC)
    first = extract_provider("alpaca", settings, now=now, assets=["AAPL", "MSFT"])
    assert first.ok, first.summary_line()
    cursor = max(day for _, day, *_ in _rows(settings))
    lag_start = cursor - dt.timedelta(days=settings.lag_days - 1)
    lag_days = _expected_days(lag_start, now)
    earliest = _first_day(now, settings)
    full = _expected_days(earliest, now)

    before = len(emulator.requests)
    second = extract_provider("alpaca", settings, now=now, assets=["AAPL", "MSFT"])
    assert second.ok and not second.warnings, second.summary_line()
    assert second.rows == 2 * len(lag_days) > 0, "only the lag days, up to each cursor"
    [call] = _bar_requests(emulator, before)
    assert call.query["start"] == lag_start.isoformat()

    # A symbol new to the universe starts from the history window; the others keep their cursors
    # (the request starts at its earliest symbol's day, each symbol keeps its own days).
    before = len(emulator.requests)
    third = extract_provider("alpaca", settings, now=now, assets=["AAPL", "MSFT", "IBM"])
    assert third.ok and not third.warnings, third.summary_line()
    assert third.rows == 2 * len(lag_days) + len(full)
    [call] = _bar_requests(emulator, before)
    assert (call.query["symbols"], call.query["start"]) == ("IBM,AAPL,MSFT", earliest.isoformat())
    counts = query(settings, "select symbol, count(*), count(distinct bar_date) from raw.alpaca_daily_bars group by 1")
    assert {symbol: (n, keys) for symbol, n, keys in counts} == dict.fromkeys(["AAPL", "IBM", "MSFT"], (len(full),) * 2)


def test_a_429_is_retried_after_the_rate_limit_reset(duckdb_settings):
    with Emulator() as fresh:
        settings = _alpaca(duckdb_settings, fresh)
        reset = int(time.time()) + 2
        headers = {"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
        fresh.inject(Fault("alpaca", status=429, body={"message": "too many requests."}, headers=headers), times=2)
        report = extract_provider("alpaca", settings, assets=["AAPL"])
    assert report.ok and report.rows > 0, report.summary_line()
    calls = [r for r in fresh.requests if r.provider == "alpaca"]
    assert [r.status for r in calls] == [429, 429, 200]
    assert calls[2].at >= reset - 0.05, "no attempt before X-RateLimit-Reset"
    assert report.calls == 3


def test_an_emulated_minute_limit_is_waited_out_page_by_page(duckdb_settings, monkeypatch):
    """Alpaca's own 429s (no Retry-After) on every page after the first: retried with backoff."""
    monkeypatch.setattr(alpaca_source, "PAGE_LIMIT", 10)
    with Emulator(config=EmulatorConfig(per_minute={"alpaca": 1}, window_seconds=1)) as limited:
        settings = _alpaca(duckdb_settings, limited, history_days=20)
        now = dt.datetime.now(UTC)
        report = extract_provider("alpaca", settings, now=now, assets=["AAPL", "MSFT"])
        throttled = limited.throttled.get("alpaca", 0)
    assert report.ok, report.summary_line()
    days = _expected_days(_first_day(now, settings), now)
    assert throttled >= 1 and report.rows == len(_rows(settings)) == 2 * len(days)


def test_refused_keys_are_one_configuration_error_without_the_secret(duckdb_settings, emulator):
    wrong = "wrong-secret-123456"
    settings = _alpaca(duckdb_settings, emulator, alpaca_api_secret_key=wrong)
    before = len(emulator.requests)
    report = extract_provider("alpaca", settings, assets=SYMBOLS)
    assert not report.ok and set(report.failures) == {"(configuration)"}
    reason = report.failures["(configuration)"]
    assert "HTTP 401" in reason and "ALPACA_API_KEY_ID" in reason and "<html>" not in reason
    assert set(report.deferred) == set(SYMBOLS)
    text = report.summary_line()
    assert wrong not in text and KEY_ID not in text
    assert len(_bar_requests(emulator, before)) == 1, "401 is not retried"


def test_without_keys_alpaca_is_skipped_with_a_note_and_no_call(duckdb_settings, emulator):
    settings = duckdb_settings.with_overrides(alpaca_base_url=emulator.base_urls()["alpaca"])
    before = len(emulator.requests)
    report = extract_provider("alpaca", settings, assets=SYMBOLS)
    assert report.ok and report.calls == 0 and not _bar_requests(emulator, before), report.summary_line()
    assert report.notes == dict.fromkeys(SYMBOLS, NO_KEYS)
    assert "https://alpaca.markets" in NO_KEYS and "ALPACA_API_KEY_ID / ALPACA_API_SECRET_KEY not set" in NO_KEYS
    assert not query(settings, "select * from information_schema.tables where table_name = 'alpaca_daily_bars'")
    half = extract_provider("alpaca", settings.with_overrides(alpaca_api_key_id=KEY_ID), assets=SYMBOLS)
    assert not half.ok and "ALPACA_API_SECRET_KEY is not set" in half.failures["(configuration)"]


def test_one_symbols_bad_bars_fail_only_that_symbol(duckdb_settings):
    def corrupt(provider, _path, _query, body):
        if provider == "alpaca" and "MSFT" in body.get("bars", {}):
            body["bars"]["MSFT"][0]["c"] = "n/a"
        return body

    with Emulator() as fresh:
        fresh.payload_hooks.append(corrupt)
        report = extract_provider("alpaca", _alpaca(duckdb_settings, fresh), assets=SYMBOLS)
    assert set(report.failures) == {"MSFT"} and report.assets_ok == 2
    assert "alpaca asset 'MSFT'" in report.failures["MSFT"] and "(field 'c')" in report.failures["MSFT"]
    assert {symbol for symbol, *_ in _rows(_alpaca(duckdb_settings, fresh))} == {"AAPL", "IBM"}


def test_a_backfill_loads_its_range_and_resumes(duckdb_settings, emulator):
    settings = _alpaca(duckdb_settings, emulator)
    job = Backfill(dt.date(2025, 3, 3), dt.date(2025, 3, 14))
    before = len(emulator.requests)
    report = backfill_provider("alpaca", settings, job, assets=["AAPL", "IBM"])
    assert report.ok, report.summary_line()
    days = sessions("XNYS", job.start, job.end)
    assert [(s, d) for s, d, *_ in _rows(settings)] == [(s, d) for s in ("AAPL", "IBM") for d in days]
    [call] = _bar_requests(emulator, before)
    assert (call.query["start"], call.query["end"]) == ("2025-03-03", "2025-03-14T04:00:00Z")
    again = backfill_provider("alpaca", settings, job, assets=["AAPL", "IBM"])
    assert again.skipped == 2 and again.calls == 0


def test_an_offline_run_loads_alpaca_from_the_emulator(tmp_path):
    settings = Settings(duckdb_path=tmp_path / "offline.duckdb", pipelines_dir=tmp_path / "dlt", history_days=10)
    with provider_settings(settings, offline=True) as offline:
        assert offline.alpaca_api_key_id and offline.alpaca_plan == "free"
        report = extract_provider("alpaca", offline)
    assert report.ok and report.rows > 0 and not report.notes, report.summary_line()
