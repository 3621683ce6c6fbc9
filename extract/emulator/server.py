"""The emulator's HTTP server: real sockets on 127.0.0.1, each provider's paths and errors.

Each provider's routes live in a module of their own (`coingecko.py`, `alpha_vantage.py`,
`fear_greed.py`, `alpaca.py`, named by the provider's registry entry); this module holds what
they share: the sliding-window call counters behind every rate limit, the plans the emulator
plays (EmulatorConfig), and faults that tests queue with `Emulator.inject` (5xx, 429 storms,
slow or truncated bodies, arbitrary payloads). Every answer text and where it comes from: docs/provider-answers.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from extract.emulator import payloads
from extract.emulator.answer import Answer
from extract.emulator.market import SyntheticMarket
from extract.registry import PROVIDERS

UTC = dt.UTC
# Each provider's routes, named by its registry entry.
ROUTES = {name: importlib.import_module(spec.emulator) for name, spec in PROVIDERS.items()}


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
    """The plans the emulator plays and its limits. Limits are calls per second / minute / UTC
    day by provider, None = unlimited; `window_seconds` shortens the "minute" for tests and
    benchmarks. The defaults are the most common user's: a free Alpha Vantage key, keyless
    CoinGecko; a CoinGecko key's plan is looked up in `coingecko_keys` (else demo for the demo
    header, `coingecko_paid_plan` for the pro one); an Alpha Vantage key's in
    `alpha_vantage_keys`, else `alpha_vantage_plan`. Alpaca knows the key pairs of `alpaca_keys`
    only (key id -> (secret, plan `free` or `plus`)) and limits each to its plan's calls per
    minute, unless `per_minute` sets Alpaca's limit for everyone."""

    alpha_vantage_plan: str = "free"
    alpha_vantage_keys: dict[str, str] = field(default_factory=lambda: {"premium-key": "premium"})
    coingecko_keys: dict[str, str] = field(
        default_factory=lambda: {"demo-key": "demo", "basic-key": "basic", "pro-key": "pro"}
    )
    coingecko_paid_plan: str = "pro"
    alpaca_keys: dict[str, tuple[str, str]] = field(
        default_factory=lambda: {"offline-key-id": ("offline-secret", "free"), "plus-key-id": ("plus-secret", "plus")}
    )
    # Keyless CoinGecko users are throttled by Cloudflare's HTML page instead of JSON.
    coingecko_html_429: bool = False
    window_seconds: float = 60.0
    per_second: dict[str, int | None] = field(default_factory=dict)
    per_minute: dict[str, int | None] = field(default_factory=dict)
    per_day: dict[str, int | None] = field(default_factory=dict)
    retry_after_seconds: int = 2


@dataclass
class RequestRecord:
    provider: str
    path: str
    status: int
    at: float
    query: dict[str, str] = field(default_factory=dict)


class _Window:
    """Sliding-window call counters, like the providers' own limits."""

    def __init__(self) -> None:
        self.second: deque[float] = deque()
        self.minute: deque[float] = deque()
        self.day: dict[dt.date, int] = {}

    def admit(self, limits: tuple[int | None, int | None, int | None], now: float, today: dt.date, window: float):
        per_second, per_minute, per_day = limits
        for recent, seconds in ((self.second, 1.0), (self.minute, window)):
            while recent and now - recent[0] >= seconds:
                recent.popleft()
        if per_day is not None and self.day.get(today, 0) >= per_day:
            return "day"
        if per_minute is not None and len(self.minute) >= per_minute:
            return "minute"
        if per_second is not None and len(self.second) >= per_second:
            return "second"
        self.second.append(now)
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
        self.throttled: dict[str, int] = {}  # rate-limited answers (429s, Alpha Vantage notices) per provider
        self.throttled_at: list[float] = []  # when (time.time(), as RequestRecord.at) they were given
        # State a provider's routes keep between requests (e.g. Alpaca's per-key windows).
        self.route_state: dict[str, dict] = {}
        self._faults: list[Fault] = []
        self._windows = {provider: _Window() for provider in ROUTES}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def base_urls(self, coingecko_plan: str = "public") -> dict[str, str]:
        """Each provider's base URL here; CoinGecko's paid plans have a host of their own."""
        return {name: routes.base_url(self.url, coingecko_plan) for name, routes in ROUTES.items()}

    def environ(self, coingecko_plan: str = "public", alpaca_plan: str | None = None) -> dict[str, str]:
        """The contract's configuration variables pointing every provider here; with
        `alpaca_plan` (`free` or `plus`) also a key pair of that plan (without one, Alpaca is
        skipped with a note, as for a user without Alpaca keys)."""
        environ = {f"SOURCES__{name.upper()}__BASE_URL": url for name, url in self.base_urls(coingecko_plan).items()}
        if alpaca_plan is not None:
            key_id, secret = self.alpaca_key_pair(alpaca_plan)
            environ |= {"ALPACA_API_KEY_ID": key_id, "ALPACA_API_SECRET_KEY": secret, "ALPACA_PLAN": alpaca_plan}
        return environ

    def alpaca_key_pair(self, plan: str = "free") -> tuple[str, str]:
        """A (key id, secret) pair the emulator serves on `plan`."""
        return next((key, secret) for key, (secret, known) in self.config.alpaca_keys.items() if known == plan)

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

    def admit(self, provider: str) -> str | None:
        """None, or the window ("second", "minute", "day") this call would overflow."""
        limits = tuple(getattr(self.config, name).get(provider) for name in ("per_second", "per_minute", "per_day"))
        with self._lock:
            return self._windows[provider].admit(limits, time.time(), self.clock().date(), self.config.window_seconds)

    def respond(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        """Route one request to its provider's routes."""
        provider = provider_of(path)
        if provider is None:
            return Answer(404, {"error": "Not Found"})
        routes = ROUTES[provider]
        limited = self.admit(provider)
        if limited:
            return self.rate_limited(provider, limited, query)
        answer = routes.respond(self, path, query, headers, self.clock())
        body = answer.body
        for hook in self.payload_hooks:
            body = hook(provider, path, query, body)
        return Answer(answer.status, body, answer.headers)

    def rate_limited(self, provider: str, window: str, query: dict[str, str]) -> Answer:
        self.count_throttled(provider)
        return ROUTES[provider].rate_limited(self, window, query)

    def count_throttled(self, provider: str) -> None:
        """One rate-limited answer (also for limits a provider's routes enforce themselves)."""
        with self._lock:
            self.throttled[provider] = self.throttled.get(provider, 0) + 1
            self.throttled_at.append(time.time())


def provider_of(path: str) -> str | None:
    return next((name for name, routes in ROUTES.items() if routes.serves(path)), None)


def _handler_for(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            provider = provider_of(parts.path) or "unknown"
            fault = emulator._take_fault(provider, parts.path)
            if fault and fault.delay:
                emulator.in_flight.append(parts.path)
                time.sleep(fault.delay)
                emulator.in_flight.remove(parts.path)
            if fault and fault.body is not None:
                answer = Answer(fault.status, fault.body, fault.headers)
            else:
                answer = emulator.respond(parts.path, query, headers)
                if fault:
                    status = fault.status if fault.status != 200 else answer.status
                    answer = Answer(status, answer.body, {**answer.headers, **fault.headers})
            raw = answer.body if isinstance(answer.body, bytes) else payloads.encode(provider, answer.body)
            if fault and fault.truncate:
                raw = raw[: len(raw) // 2]
            emulator.requests.append(RequestRecord(provider, parts.path, answer.status, time.time(), query))
            self.send_response(answer.status)
            extra = {k.lower(): v for k, v in answer.headers.items()}
            self.send_header("Content-Type", extra.pop("content-type", "application/json; charset=utf-8"))
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
