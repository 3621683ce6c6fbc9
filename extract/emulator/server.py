"""The emulator's HTTP server: real sockets on 127.0.0.1, the providers' paths and errors.

Besides the happy path it reproduces what breaks naive scripts: per-minute and per-day
rate limits (CoinGecko 429 + Retry-After, Alpha Vantage's HTTP-200 `Note`/`Information`
bodies), plan gating (Alpha Vantage premium functions, CoinGecko's 365-day public history and
paid-only endpoints), unknown ids, and injectable faults (5xx, 429 storms, slow or truncated
bodies, arbitrary payloads) that tests queue with `Emulator.inject`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from extract.emulator import payloads
from extract.emulator.market import SyntheticMarket

UTC = dt.UTC
PROVIDERS = ("coingecko", "alpha_vantage", "fear_greed")

CG_RATE_LIMIT_BODY = {
    "status": {
        "error_code": 429,
        "error_message": "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing "
        "to subscribe to our API plans for higher rate limits.",
    }
}
CG_HISTORY_LIMIT_MESSAGE = (
    "Your request exceeds the allowed time range. Public API users are limited to querying historical data "
    "within the past 365 days. Upgrade to a paid plan to enjoy full historical data access: "
    "https://www.coingecko.com/en/api/pricing. "
)
CG_PLAN_RESTRICTED_MESSAGE = "This endpoint is only available to paid plan subscribers. Upgrade to a paid plan."
AV_INVALID_CALL = (
    "Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for {}."
)
AV_MISSING_KEY = (
    "the parameter apikey is invalid or missing. Please claim your free API key on "
    "(https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds."
)
AV_PREMIUM_ENDPOINT = (
    "Thank you for using Alpha Vantage! This is a premium endpoint. You may subscribe to any of the premium plans "
    "at https://www.alphavantage.co/premium/ to instantly unlock all premium endpoints"
)
AV_PREMIUM_FULL = (
    "Thank you for using Alpha Vantage! The outputsize=full parameter value is a premium feature for the "
    "{} endpoint. You may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to "
    "instantly unlock all premium features"
)
AV_MINUTE_LIMIT = (
    "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per "
    "day. Please visit https://www.alphavantage.co/premium/ if you would like to target a higher API call frequency."
)
AV_DAY_LIMIT = (
    "Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day. Please subscribe to "
    "any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."
)


@dataclass
class Fault:
    """One queued misbehaviour. `body=None` means the normal payload (possibly truncated/delayed)."""

    provider: str
    status: int = 200
    body: bytes | dict | list | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate: bool = False
    path_contains: str = ""


@dataclass
class EmulatorConfig:
    """Plan and limit settings. Limits are calls per minute / per UTC day, None = unlimited.
    `window_seconds` shortens the "minute" for tests and benchmarks."""

    alpha_vantage_premium: bool = True
    window_seconds: float = 60.0
    per_minute: dict[str, int | None] = field(default_factory=dict)
    per_day: dict[str, int | None] = field(default_factory=dict)
    retry_after_seconds: int = 2


@dataclass
class RequestRecord:
    provider: str
    path: str
    status: int
    at: float


class _Window:
    """Sliding-window call counter, like the providers' own minute limits."""

    def __init__(self) -> None:
        self.minute: deque[float] = deque()
        self.day: dict[dt.date, int] = {}

    def admit(self, per_minute: int | None, per_day: int | None, now: float, window: float) -> str | None:
        while self.minute and now - self.minute[0] >= window:
            self.minute.popleft()
        today = dt.datetime.fromtimestamp(now, UTC).date()
        if per_day is not None and self.day.get(today, 0) >= per_day:
            return "day"
        if per_minute is not None and len(self.minute) >= per_minute:
            return "minute"
        self.minute.append(now)
        self.day[today] = self.day.get(today, 0) + 1
        return None


class Emulator:
    """Start with `with Emulator() as emu:`; `emu.environ()` gives the base-URL variables."""

    def __init__(
        self,
        market: SyntheticMarket | None = None,
        config: EmulatorConfig | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.market = market or SyntheticMarket()
        self.config = config or EmulatorConfig()
        self.clock = clock or (lambda: dt.datetime.now(UTC))
        self.requests: list[RequestRecord] = []
        self.in_flight: list[str] = []  # paths received and not yet answered (e.g. delayed)
        self.payload_hooks: list[Callable[[str, str, dict, object], object]] = []
        self._faults: list[Fault] = []
        self._windows = {provider: _Window() for provider in PROVIDERS}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def base_urls(self) -> dict[str, str]:
        return {"coingecko": f"{self.url}/api/v3", "alpha_vantage": self.url, "fear_greed": self.url}

    def environ(self) -> dict[str, str]:
        """The contract's configuration variables pointing every provider here."""
        return {f"SOURCES__{name.upper()}__BASE_URL": url for name, url in self.base_urls().items()}

    def inject(self, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._faults.extend([fault] * times)

    def calls(self, provider: str | None = None) -> int:
        return sum(1 for r in self.requests if provider in (None, r.provider))

    def start(self) -> Emulator:
        self._thread = threading.Thread(target=self._server.serve_forever, name="provider-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _take_fault(self, provider: str, path: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.provider == provider and fault.path_contains in path:
                    return self._faults.pop(index)
        return None

    def _admit(self, provider: str) -> str | None:
        with self._lock:
            return self._windows[provider].admit(
                self.config.per_minute.get(provider),
                self.config.per_day.get(provider),
                time.time(),
                self.config.window_seconds,
            )

    def respond(self, path: str, query: dict[str, str], headers: dict[str, str]) -> tuple[int, dict, object]:
        """Route one request: returns (status, headers, JSON-able body)."""
        provider = _provider_of(path)
        if provider is None:
            return 404, {}, {"error": "Not Found"}
        limited = self._admit(provider)
        if limited:
            return self._rate_limited(provider, limited)
        now = self.clock()
        if provider == "coingecko":
            status, body = self._coingecko(path, query, headers, now)
        elif provider == "alpha_vantage":
            status, body = self._alpha_vantage(query, now)
        else:
            status, body = self._fear_greed(query, now)
        for hook in self.payload_hooks:
            body = hook(provider, path, query, body)
        return status, {}, body

    def _rate_limited(self, provider: str, window: str) -> tuple[int, dict, object]:
        retry = {"Retry-After": str(self.config.retry_after_seconds)}
        if provider == "alpha_vantage":
            return 200, {}, {"Information": AV_DAY_LIMIT} if window == "day" else {"Note": AV_MINUTE_LIMIT}
        if provider == "fear_greed":
            return 429, retry, b"Too Many Requests\n"
        return 429, retry, CG_RATE_LIMIT_BODY

    def _coingecko(self, path: str, query: dict, headers: dict, now: dt.datetime) -> tuple[int, object]:
        plan = "pro" if "x-cg-pro-api-key" in headers else "demo" if "x-cg-demo-api-key" in headers else "public"
        route = path.removeprefix("/api/v3")
        if route == "/ping":
            return 200, {"gecko_says": "(V3) To the Moon!"}
        if route == "/coins/markets":
            if "vs_currency" not in query:
                return 400, {"error": "Missing parameter vs_currency"}
            ids = [i for i in query.get("ids", "").split(",") if i][: int(query.get("per_page", 100))]
            return 200, payloads.coins_markets(self.market, ids, now)
        match = re.fullmatch(r"/coins/([^/]+)/(market_chart|market_chart/range|ohlc|ohlc/range)", route)
        if not match:
            return 404, {"error": "Not Found"}
        coin_id, endpoint = match.groups()
        series = self.market.coin(coin_id)
        if series is None:
            return 404, {"error": "coin not found"}
        if endpoint == "ohlc/range" and plan != "pro":
            return 401, {"status": {"error_code": 10005, "error_message": CG_PLAN_RESTRICTED_MESSAGE}}
        try:
            start, end = _cg_window(query, now)
        except (KeyError, ValueError) as exc:
            return 400, {"error": f"invalid parameter: {exc}"}
        if plan != "pro" and start < now - dt.timedelta(days=365, minutes=5):
            stamp = now.isoformat(timespec="milliseconds")
            return 401, {
                "error": {
                    "status": {"timestamp": stamp, "error_code": 10012, "error_message": CG_HISTORY_LIMIT_MESSAGE}
                }
            }
        if endpoint.startswith("market_chart"):
            return 200, payloads.market_chart(series, start, end, now)
        return 200, payloads.daily_ohlc(series, start, end, now)

    def _alpha_vantage(self, query: dict, now: dt.datetime) -> tuple[int, object]:
        function = query.get("function", "")
        if not query.get("apikey"):
            return 200, {"Error Message": AV_MISSING_KEY}
        if function not in ("TIME_SERIES_DAILY", "TIME_SERIES_DAILY_ADJUSTED"):
            return 200, {"Error Message": AV_INVALID_CALL.format(function)}
        outputsize = query.get("outputsize", "compact")
        if not self.config.alpha_vantage_premium:
            if function == "TIME_SERIES_DAILY_ADJUSTED":
                return 200, {"Information": AV_PREMIUM_ENDPOINT}
            if outputsize == "full":
                return 200, {"Information": AV_PREMIUM_FULL.format(function)}
        sessions = self.market.equity(query.get("symbol", "").upper())
        if sessions is None:
            return 200, {"Error Message": AV_INVALID_CALL.format(function)}
        return 200, payloads.av_daily(query["symbol"].upper(), sessions, function, outputsize, now)

    def _fear_greed(self, query: dict, now: dt.datetime) -> tuple[int, object]:
        try:
            limit = int(query.get("limit", "1"))
        except ValueError:
            limit = 1
        date_format = query.get("date_format", "")
        if date_format not in ("", *payloads.FNG_DATE_FORMATS):
            date_format = ""
        return 200, payloads.fear_greed(self.market, limit, date_format, now)


def _provider_of(path: str) -> str | None:
    if path.startswith("/api/v3/"):
        return "coingecko"
    if path == "/query":
        return "alpha_vantage"
    if path in ("/fng", "/fng/"):
        return "fear_greed"
    return None


def _cg_time(value: str) -> dt.datetime:
    """`from`/`to` as UNIX seconds or the ISO dates the current docs recommend."""
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return dt.datetime.fromtimestamp(float(value), UTC)
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _cg_window(query: dict, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    if "from" in query or "to" in query:
        return _cg_time(query["from"]), _cg_time(query["to"])
    days = query["days"]
    start = dt.datetime(2009, 1, 3, tzinfo=UTC) if days == "max" else now - dt.timedelta(days=float(days))
    return start, now


def _handler_for(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            provider = _provider_of(parts.path) or "unknown"
            fault = emulator._take_fault(provider, parts.path)
            if fault and fault.delay:
                emulator.in_flight.append(parts.path)
                time.sleep(fault.delay)
                emulator.in_flight.remove(parts.path)
            if fault and fault.body is not None:
                status, extra, body = fault.status, fault.headers, fault.body
            else:
                status, extra, body = emulator.respond(parts.path, query, headers)
                if fault:
                    status, extra = fault.status if fault.status != 200 else status, {**extra, **fault.headers}
            raw = body if isinstance(body, bytes) else payloads.encode(provider, body)
            if fault and fault.truncate:
                raw = raw[: len(raw) // 2]
            emulator.requests.append(RequestRecord(provider, parts.path, status, time.time()))
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            # The client may have given up already (its timeout fired during an injected delay).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(raw)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - keys in query strings stay out of logs
            return

    return Handler
