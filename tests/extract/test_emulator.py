"""The emulator copies the providers: same paths, parameters, payload shapes and errors as the
real recorded responses in shared/fixtures/providers, and a realistic synthetic market."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import time

import requests

from extract.calendars import is_session, last_closed_session
from extract.emulator import alpha_vantage as alpha_vantage_routes
from extract.emulator.market import SyntheticMarket, fear_greed_classification
from extract.emulator.server import Emulator, EmulatorConfig, Fault

UTC = dt.UTC


def _get(url: str, **params) -> requests.Response:
    return requests.get(url, params=params, timeout=10)


def _json_types(value):
    """The JSON type of every field, ints and floats both counting as numbers."""
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def test_markets_match_the_recorded_payload_field_for_field(emulator, provider_fixtures):
    recorded = json.loads(
        (provider_fixtures / "coingecko/coins_markets_usd_page1_250coins_2023-07-28.json").read_text()
    )
    served = _get(f"{emulator.base_urls()['coingecko']}/coins/markets", vs_currency="usd", ids="bitcoin,solana").json()
    assert [row["id"] for row in served] == ["bitcoin", "solana"]
    bitcoin = next(row for row in recorded if row["id"] == "bitcoin")
    assert list(served[0]) == list(bitcoin), "same fields in the same wire order"
    for name, value in bitcoin.items():
        if value is not None and served[0][name] is not None:
            assert _json_types(served[0][name]) == _json_types(value), name
    assert served[0]["last_updated"].endswith("Z") and len(served[0]["last_updated"]) == len(bitcoin["last_updated"])


def test_a_coins_market_cap_rank_does_not_depend_on_the_ids_asked_with_it(emulator):
    """The rank is the coin's among every coin listed (the recorded page of all coins ranks them
    1..250 in market-cap order), so a batch of ids gets the ranks the whole universe gets."""
    url = f"{emulator.base_urls()['coingecko']}/coins/markets"
    everyone = _get(url, vs_currency="usd", ids=",".join(SyntheticMarket().coins)).json()
    assert [row["market_cap_rank"] for row in everyone] == list(range(1, len(everyone) + 1))
    assert [row["market_cap"] for row in everyone] == sorted((row["market_cap"] for row in everyone), reverse=True)
    ranks = {row["id"]: row["market_cap_rank"] for row in everyone}
    for pair in itertools.combinations(ranks, 2):
        served = _get(url, vs_currency="usd", ids=",".join(pair)).json()
        assert {row["id"]: row["market_cap_rank"] for row in served} == {coin: ranks[coin] for coin in pair}


def test_market_chart_has_the_recorded_shape_and_hourly_granularity(emulator, provider_fixtures):
    recorded = json.loads(
        (provider_fixtures / "coingecko/market_chart_matic-network_usd_days1_5min_2023-03-15.json").read_text()
    )
    now = int(time.time())
    served = _get(
        f"{emulator.base_urls()['coingecko']}/coins/ethereum/market_chart/range",
        vs_currency="usd",
        **{"from": now - 10 * 86400, "to": now},
    ).json()
    assert set(served) == set(recorded) == {"prices", "market_caps", "total_volumes"}
    stamps = [point[0] for point in served["prices"]]
    assert all(isinstance(ts, int) and ts > 10**12 for ts in stamps), "milliseconds"
    gaps = {round((b - a) / 3_600_000) for a, b in itertools.pairwise(stamps[:-1])}  # the last point is "now"
    assert gaps == {1}, "2-90 day ranges come back hourly"
    assert all(ts % 3_600_000 != 0 for ts in stamps[:-1]), "real hourly points sit seconds past the hour"
    assert len({ts % 3_600_000 for ts in stamps[:-1]}) > 1, "and not always by the same offset"
    assert stamps[-1] % 1000 == 0 and 0 <= stamps[-1] / 1000 - now < 60, "the last point is now, to the second"
    hours = [ts // 3_600_000 for ts in stamps]
    assert hours == list(range(hours[0], hours[0] + len(hours))), "one point per clock hour, the running one's is now"
    assert len(served["prices"]) == len(served["market_caps"]) == len(served["total_volumes"])


def test_public_plan_history_is_limited_to_365_days(emulator):
    start = dt.datetime(2024, 1, 1, tzinfo=UTC)
    served = _get(
        f"{emulator.base_urls()['coingecko']}/coins/bitcoin/market_chart/range",
        vs_currency="usd",
        **{"from": int(start.timestamp()), "to": int((start + dt.timedelta(days=120)).timestamp())},
    )
    assert served.status_code == 401
    assert served.json()["error"]["status"]["error_code"] == 10012


def test_pro_plan_gets_daily_points_and_candles_beyond_a_year(emulator):
    start = dt.datetime(2024, 1, 1, tzinfo=UTC)
    params = {
        "vs_currency": "usd",
        "from": int(start.timestamp()),
        "to": int((start + dt.timedelta(days=120)).timestamp()),
    }
    pro = {"x-cg-pro-api-key": "pro-key"}
    base = emulator.base_urls("pro")["coingecko"]
    chart = requests.get(f"{base}/coins/bitcoin/market_chart/range", params=params, headers=pro, timeout=10).json()
    assert all(ts % 86_400_000 == 0 for ts, _ in chart["prices"])
    assert len(chart["prices"]) == 121
    candles = requests.get(
        f"{base}/coins/bitcoin/ohlc/range", params={**params, "interval": "daily"}, headers=pro, timeout=10
    ).json()
    assert all(len(c) == 5 and c[2] >= max(c[1], c[4]) and c[3] <= min(c[1], c[4]) for c in candles)
    basic = requests.get(
        f"{base}/coins/bitcoin/ohlc/range", params=params, headers={"x-cg-pro-api-key": "basic-key"}, timeout=10
    )
    assert basic.status_code == 401 and basic.json()["status"]["error_code"] == 10005, "Basic has no candles"


def test_pro_plan_gets_hourly_candles_closed_on_the_hour_for_at_most_31_days(emulator):
    """/ohlc/range?interval=hourly: "up to 31 days per request / 744 hourly interval candles",
    each stamped with its close time (CoinGecko's docs); the running hour is not served."""
    now = dt.datetime.now(UTC)
    start = dt.datetime.combine(now.date() - dt.timedelta(days=30), dt.time(), UTC)
    base = emulator.base_urls("pro")["coingecko"]

    def candles(begin, end, interval="hourly", key="pro-key") -> requests.Response:
        params = {
            "vs_currency": "usd",
            "from": int(begin.timestamp()),
            "to": int(end.timestamp()),
            "interval": interval,
        }
        headers = {"x-cg-pro-api-key": key}
        return requests.get(f"{base}/coins/bitcoin/ohlc/range", params=params, headers=headers, timeout=10)

    month = candles(start - dt.timedelta(days=31), start).json()
    assert len(month) == 744 and month[-1][0] == start.timestamp() * 1000, "31 days from a midnight: 744 candles"
    recent = candles(start, now).json()
    answered = dt.datetime.now(UTC)  # the emulator's "now" lies between `now` and this
    closes = [candle[0] for candle in recent]
    assert all(close % 3_600_000 == 0 for close in closes), "stamped on the whole hour"
    assert closes == list(range(closes[0], closes[-1] + 1, 3_600_000)), "every hour, in order"
    assert closes[0] == start.timestamp() * 1000 + 3_600_000, "the first hour of the range closes an hour in"
    assert closes[-1] <= answered.timestamp() * 1000, "closed hours only"
    assert now.timestamp() * 1000 < closes[-1] + 3_600_000, "all of them: only the running hour is missing"
    assert all(c[2] >= max(c[1], c[4]) and c[3] <= min(c[1], c[4]) for c in recent)
    assert all(a[4] == b[1] for a, b in itertools.pairwise(recent)), "an hour opens where the last one closed"
    daily = candles(start, start, interval="daily").json()
    assert daily[0][1] == recent[0][1], "the day's first hour opens its daily candle"

    too_long = candles(start - dt.timedelta(days=31, hours=1), start)
    assert too_long.status_code == 400 and "31 days" in too_long.json()["error"]
    basic = candles(start, start + dt.timedelta(days=1), key="basic-key")
    assert basic.status_code == 401 and basic.json()["status"]["error_code"] == 10005, "Basic has no candles"


def test_unknown_coin_is_a_404_with_coingeckos_body(emulator):
    response = _get(f"{emulator.base_urls()['coingecko']}/coins/nope/market_chart", vs_currency="usd", days=3)
    assert response.status_code == 404
    assert response.json() == {"error": "coin not found"}


def test_alpha_vantage_adjusted_series_matches_the_recorded_shape(emulator, provider_fixtures):
    recorded = json.loads(
        (
            provider_fixtures / "alpha_vantage/time_series_daily_adjusted_AAPL_compact_100rows_2021-07-23.json"
        ).read_text()
    )
    served = _get(
        f"{emulator.base_urls()['alpha_vantage']}/query",
        function="TIME_SERIES_DAILY_ADJUSTED",
        symbol="AAPL",
        apikey="premium-key",
    ).json()
    assert list(served) == list(recorded)
    assert list(served["Meta Data"]) == list(recorded["Meta Data"])
    series = served["Time Series (Daily)"]
    first_recorded = next(iter(recorded["Time Series (Daily)"].values()))
    assert len(series) == 100, "compact is the latest 100 sessions"
    days = [dt.date.fromisoformat(day) for day in series]
    assert days == sorted(days, reverse=True), "newest first"
    assert all(is_session("XNYS", day) for day in days)
    assert days[0] == last_closed_session("XNYS", dt.datetime.now(UTC))
    assert all(list(values) == list(first_recorded) for values in series.values())
    assert all(isinstance(v, str) for values in series.values() for v in values.values())


def test_alpha_vantage_bodies_are_pretty_printed_like_the_real_ones(emulator, provider_fixtures):
    """The recorded premium-endpoint answer is a real body byte for byte: a 4-space indent."""
    recorded = (
        provider_fixtures / "alpha_vantage/information_premium_endpoint_TIME_SERIES_DAILY_ADJUSTED_2022-03-16.json"
    ).read_text()
    assert recorded == json.dumps(json.loads(recorded), indent=4)
    url = f"{emulator.base_urls()['alpha_vantage']}/query"
    for symbol in ("AAPL", "NOPE"):  # a series, an `Error Message`
        served = _get(url, function="TIME_SERIES_DAILY_ADJUSTED", symbol=symbol, apikey="premium-key")
        assert served.text == json.dumps(served.json(), indent=4)
    coins = _get(f"{emulator.base_urls()['coingecko']}/coins/markets", vs_currency="usd")
    assert coins.text == json.dumps(coins.json())  # CoinGecko answers compactly


def test_alpha_vantage_plain_daily_matches_the_recorded_shape(emulator, provider_fixtures):
    recorded = json.loads(
        (provider_fixtures / "alpha_vantage/time_series_daily_IBM_full_TRUNCATED_2rows_2020-05-08.json").read_text()
    )
    served = _get(
        f"{emulator.base_urls()['alpha_vantage']}/query", function="TIME_SERIES_DAILY", symbol="IBM", apikey="k"
    )
    body = served.json()
    assert body["Meta Data"]["1. Information"] == recorded["Meta Data"]["1. Information"]
    assert list(next(iter(body["Time Series (Daily)"].values()))) == list(
        next(iter(recorded["Time Series (Daily)"].values()))
    )


def test_alpha_vantage_errors_are_http_200_bodies(emulator, provider_fixtures):
    recorded = json.loads(
        (provider_fixtures / "alpha_vantage/error_message_invalid_api_call_TIME_SERIES_DAILY_ADJUSTED.json").read_text()
    )
    url = f"{emulator.base_urls()['alpha_vantage']}/query"
    unknown = _get(url, function="TIME_SERIES_DAILY_ADJUSTED", symbol="NOPE", apikey="premium-key")
    assert unknown.status_code == 200
    assert unknown.json() == recorded
    assert "apikey" in _get(url, function="TIME_SERIES_DAILY", symbol="IBM").json()["Error Message"]


def test_free_plan_gets_alpha_vantages_premium_messages(emulator):
    url = f"{emulator.url}/query"
    adjusted = _get(url, function="TIME_SERIES_DAILY_ADJUSTED", symbol="IBM", apikey="free-key").json()
    full = _get(url, function="TIME_SERIES_DAILY", symbol="IBM", outputsize="full", apikey="free-key").json()
    compact = _get(url, function="TIME_SERIES_DAILY", symbol="IBM", apikey="free-key").json()
    assert adjusted == {"Information": alpha_vantage_routes.PREMIUM_ENDPOINT}
    assert full == {"Information": alpha_vantage_routes.PREMIUM_FULL.format("TIME_SERIES_DAILY")}
    assert len(compact["Time Series (Daily)"]) == 100
    assert compact["Meta Data"]["4. Output Size"] == "Compact"


def test_the_demo_key_serves_ibm_only(emulator):
    url = f"{emulator.url}/query"
    assert "Time Series (Daily)" in _get(url, function="TIME_SERIES_DAILY", symbol="IBM", apikey="demo").json()
    other = _get(url, function="TIME_SERIES_DAILY", symbol="AAPL", apikey="demo").json()
    assert other == {"Information": alpha_vantage_routes.DEMO_KEY}


def test_free_functions_have_the_documented_shapes(emulator):
    """TIME_SERIES_MONTHLY (4 meta keys, months keyed by their last session, the running month
    by the latest), SPLITS and DIVIDENDS ({"symbol", "data": [...]}, strings, newest first)."""
    url = f"{emulator.url}/query"
    monthly = _get(url, function="TIME_SERIES_MONTHLY", symbol="AAPL", apikey="free-key").json()
    assert list(monthly) == ["Meta Data", "Monthly Time Series"]
    assert list(monthly["Meta Data"]) == ["1. Information", "2. Symbol", "3. Last Refreshed", "4. Time Zone"]
    months = [dt.date.fromisoformat(day) for day in monthly["Monthly Time Series"]]
    assert months[0].isoformat() == monthly["Meta Data"]["3. Last Refreshed"]
    assert months == sorted(months, reverse=True) and months[-1].year == 2005 and len(set(months)) == len(months)
    assert all(is_session("XNYS", day) for day in months)
    assert list(monthly["Monthly Time Series"][months[1].isoformat()]) == [
        "1. open", "2. high", "3. low", "4. close", "5. volume",
    ]  # fmt: skip
    splits = _get(url, function="SPLITS", symbol="AAPL", apikey="free-key").json()
    assert splits == {
        "symbol": "AAPL",
        "data": [
            {"effective_date": "2020-08-31", "split_factor": "4.0000"},
            {"effective_date": "2014-06-09", "split_factor": "7.0000"},
        ],
    }
    dividends = _get(url, function="DIVIDENDS", symbol="IBM", apikey="free-key").json()
    assert list(dividends) == ["symbol", "data"]
    first = dividends["data"][0]
    assert list(first) == ["ex_dividend_date", "declaration_date", "record_date", "payment_date", "amount"]
    assert all(isinstance(value, str) for event in dividends["data"] for value in event.values())
    assert dividends["data"][-1]["declaration_date"] == "None", "old records lack the other dates"
    assert _get(url, function="SPLITS", symbol="MSFT", apikey="free-key").json() == {"symbol": "MSFT", "data": []}


def test_coingecko_keys_must_match_their_host(emulator):
    """A paid key on the public host is 10010, a demo key on the paid host 10011, no key on the
    paid host 10002: each with the recorded texts."""
    public, paid = emulator.base_urls("public")["coingecko"], emulator.base_urls("pro")["coingecko"]
    wrong_host = requests.get(f"{public}/ping", headers={"x-cg-pro-api-key": "pro-key"}, timeout=10)
    assert wrong_host.status_code == 400
    assert (
        wrong_host.json()["error_code"] == 10010
        and "pro-api.coingecko.com" in wrong_host.json()["status"]["error_message"]
    )
    demo_on_paid = requests.get(f"{paid}/ping", headers={"x-cg-demo-api-key": "demo-key"}, timeout=10)
    assert demo_on_paid.status_code == 400 and demo_on_paid.json()["error_code"] == 10011
    keyless_paid = requests.get(f"{paid}/ping", timeout=10)
    assert keyless_paid.status_code == 401 and keyless_paid.json()["status"]["error_code"] == 10002
    demo = requests.get(f"{public}/ping", headers={"x-cg-demo-api-key": "demo-key"}, timeout=10)
    assert demo.status_code == 200


def test_keyless_coingecko_throttling_can_be_cloudflares_html_page():
    config = EmulatorConfig(per_minute={"coingecko": 1}, coingecko_html_429=True, retry_after_seconds=119)
    with Emulator(config=config) as limited:
        url = f"{limited.base_urls()['coingecko']}/ping"
        assert _get(url).status_code == 200
        throttled = _get(url)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "119"
    assert throttled.headers["Content-Type"].startswith("text/html") and "error code: 1015" in throttled.text


def test_fear_greed_matches_the_recorded_shape(emulator, provider_fixtures):
    recorded = json.loads(
        (provider_fixtures / "alternative_me_fng/fng_limit30_DERIVED_first30_of_2025-04-22_response.json").read_text()
    )
    served = _get(f"{emulator.base_urls()['fear_greed']}/fng/", limit=30).json()
    assert list(served) == list(recorded)
    assert len(served["data"]) == 30
    assert list(served["data"][0]) == list(recorded["data"][0])
    assert list(served["data"][1]) == list(recorded["data"][1]), "time_until_update only on the newest"
    stamps = [int(entry["timestamp"]) for entry in served["data"]]
    assert all(ts % 86400 == 0 for ts in stamps) and stamps == sorted(stamps, reverse=True)
    for entry in recorded["data"] + served["data"]:
        assert fear_greed_classification(int(entry["value"])) == entry["value_classification"]
    assert len(_get(f"{emulator.base_urls()['fear_greed']}/fng/", limit=0).json()["data"]) > 3000


def test_rate_limits_answer_like_each_provider():
    config = EmulatorConfig(per_minute={"coingecko": 2, "alpha_vantage": 1, "fear_greed": 1}, retry_after_seconds=7)
    with Emulator(config=config) as limited:
        urls = limited.base_urls()
        codes = [_get(f"{urls['coingecko']}/ping").status_code for _ in range(3)]
        throttled = _get(f"{urls['coingecko']}/ping")
        av = [
            _get(f"{urls['alpha_vantage']}/query", function="TIME_SERIES_DAILY", symbol="IBM", apikey="k") for _ in "ab"
        ]
    burst = EmulatorConfig(per_second={"alpha_vantage": 1}, per_day={"fear_greed": 1})
    with Emulator(config=burst) as limited:
        url = f"{limited.url}/query"
        quick = [_get(url, function="TIME_SERIES_DAILY", symbol="IBM", apikey="k").json() for _ in "ab"]
        fng = [_get(f"{limited.url}/fng/").status_code for _ in "ab"]
    day = EmulatorConfig(per_day={"alpha_vantage": 1})
    with Emulator(config=day) as limited:
        url = f"{limited.url}/query"
        daily = [_get(url, function="TIME_SERIES_DAILY", symbol="IBM", apikey="K-123").json() for _ in "ab"]
    assert quick[1] == {"Information": alpha_vantage_routes.BURST}
    assert fng == [200, 429]
    assert daily[1] == {"Information": alpha_vantage_routes.DAY_LIMIT.format("K-123")}
    assert codes == [200, 200, 429]
    assert throttled.headers["Retry-After"] == "7"
    assert throttled.json()["status"]["error_code"] == 429
    assert av[1].status_code == 200 and "call frequency" in av[1].json()["Note"]


def test_injected_faults_are_served_once_each(emulator):
    url = f"{emulator.base_urls()['coingecko']}/ping"
    emulator.inject(Fault("coingecko", status=503, body=b"upstream down"), times=2)
    emulator.inject(Fault("coingecko", truncate=True))
    statuses = [_get(url).status_code for _ in range(2)]
    truncated = _get(url)
    assert statuses == [503, 503]
    assert truncated.status_code == 200
    assert truncated.text.startswith("{") and not truncated.text.endswith("}")
    assert _get(url).json() == {"gecko_says": "(V3) To the Moon!"}


def test_synthetic_market_has_the_edge_cases_analysts_meet():
    market = SyntheticMarket()
    assert max(market.coin("baby-doge-coin").prices) < 1e-8, "a token priced below 1e-8 USD"
    aapl = market.equity("AAPL")
    assert all(is_session("XNYS", s.date) for s in aapl)
    split = next(s for s in aapl if s.split == 4.0)
    before = aapl[aapl.index(split) - 1]
    assert split.date == dt.date(2020, 8, 31) and 3 < before.close / split.close < 5.5
    assert sum(1 for s in aapl if s.dividend > 0) >= 40
    again = SyntheticMarket()
    assert again.coin("bitcoin").prices[:1000] == market.coin("bitcoin").prices[:1000], "deterministic"


def test_each_equity_trades_on_its_own_exchanges_sessions(emulator):
    """A London stock trades on US Thanksgiving and not on Boxing Day; a Shanghai one skips the
    Spring Festival week; each series ends at its exchange's last closed session."""
    market = SyntheticMarket()
    london = {s.date for s in market.equity("TSCO.LON")}
    shanghai = {s.date for s in market.equity("600104.SHH")}
    assert dt.date(2025, 11, 27) in london and dt.date(2025, 12, 26) not in london
    assert not {dt.date(2026, 2, 16) + dt.timedelta(days=i) for i in range(5)} & shanghai
    assert all(is_session("XSHG", day) for day in shanghai if day.year <= 2026)
    served = _get(f"{emulator.url}/query", function="TIME_SERIES_DAILY", symbol="600104.SHH", apikey="free-key").json()
    newest = dt.date.fromisoformat(next(iter(served["Time Series (Daily)"])))
    assert newest == last_closed_session("XSHG", dt.datetime.now(UTC))
    assert served["Meta Data"]["5. Time Zone"] == "US/Eastern", "as recorded for London and Toronto symbols"
