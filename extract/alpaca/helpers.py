"""Pure Alpaca parsing: validate `/v2/stocks/bars` pages into rows, date the bars, and say what
an error answer means. No dlt, no HTTP: tested on payloads shaped like the SDKs' fixtures."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from extract.alpaca.settings import BARS_PATH, FEED_SETTING, KEY_ID_SETTING, PLAN_SETTING, SECRET_SETTING
from extract.errors import ConfigurationError, PayloadError, ProviderError

PROVIDER = "alpaca"
NEW_YORK = ZoneInfo("America/New_York")
# Wire field -> raw column: prices as doubles, `v` as a double too (fractional share volumes
# exist on some feeds), `n` an integer, `vw` a double.
PRICE_FIELDS = {"o": "open", "h": "high", "l": "low", "c": "close", "v": "volume"}
# Added to v2 bars in 2021 (absent from older answers): kept nullable.
OPTIONAL_FIELDS = {"n": "trade_count", "vw": "vwap"}
HTML_TITLE = re.compile(r"<(?:title|h1)>\s*([^<]+?)\s*</(?:title|h1)>", re.IGNORECASE)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def bar_date(t: str) -> dt.date:
    """The New York calendar date of a bar's time. Daily bars are stamped at midnight New York
    in UTC: "truncated ... to the day (in New York) for daily bars ... the left side of the
    interval" (FAQ), so 04:00Z in summer (EDT) and 05:00Z in winter (EST) are that UTC day;
    the UTC date alone would be right for daily bars but wrong for late intraday ones."""
    stamp = dt.datetime.fromisoformat(t)
    if stamp.tzinfo is None:
        raise ValueError(f"no time zone in {t!r}")
    return stamp.astimezone(NEW_YORK).date()


def history_start(now: dt.datetime, history_days: int) -> dt.date:
    """A symbol's first day on its first run: MARKET_ELT_HISTORY_DAYS back from today in New
    York, the date Alpaca's bars are dated by. The daily bars and the lake's minute bars both
    start here, so a session has both or neither whatever the UTC hour of the run (from 19:00 or
    20:00 New York the UTC date is already the next day)."""
    return now.astimezone(NEW_YORK).date() - dt.timedelta(days=history_days)


@dataclass
class BarsPage:
    """One page: rows by symbol (in the page's order), the symbols whose bars did not validate
    (each with its error; the others stand), and the token of the next page (None: the last)."""

    rows: dict[str, list[dict]] = field(default_factory=dict)
    bad: dict[str, PayloadError] = field(default_factory=dict)
    next_page_token: str | None = None


def bar_rows(payload: object, feed: str, adjustment: str) -> BarsPage:
    """Validate `{"bars": {SYM: [{t, o, h, l, c, v, n, vw}, ...]}, "next_page_token": ...}`.
    A symbol with a malformed bar is set aside (`bad`), named with the field; a page that is not
    this shape at all raises PayloadError. Symbols without data are simply absent (Alpaca leaves
    them out); `"bars": null` is read as no data too."""
    if not isinstance(payload, dict):
        raise PayloadError(PROVIDER, None, f"expected an object, got {type(payload).__name__}")
    token = payload.get("next_page_token")
    if token is not None and not (isinstance(token, str) and token):
        raise PayloadError(PROVIDER, None, f"expected a string or null, got {token!r}", "next_page_token")
    if "bars" not in payload:
        raise PayloadError(PROVIDER, None, "missing", "bars")
    bars = payload["bars"] if payload["bars"] is not None else {}
    if not isinstance(bars, dict):
        raise PayloadError(PROVIDER, None, f"expected an object of symbols, got {type(bars).__name__}", "bars")
    page = BarsPage(next_page_token=token)
    for symbol, entries in bars.items():
        try:
            page.rows[symbol] = _symbol_rows(symbol, entries, feed, adjustment)
        except PayloadError as exc:
            page.bad[symbol] = exc
    return page


def _symbol_rows(symbol: str, entries: object, feed: str, adjustment: str) -> list[dict]:
    if not isinstance(entries, list):
        raise PayloadError(PROVIDER, symbol, f"expected a list of bars, got {type(entries).__name__}", "bars")
    rows = []
    for bar in entries:
        if not isinstance(bar, dict):
            raise PayloadError(PROVIDER, symbol, f"expected a bar object, got {bar!r}", "bars")
        t = bar.get("t")
        try:
            day = bar_date(t) if isinstance(t, str) else None
        except ValueError:
            day = None
        if day is None:
            raise PayloadError(PROVIDER, symbol, f"expected an RFC 3339 time, got {t!r}", "t")
        row = {"symbol": symbol, "t": t, "bar_date": day}
        for name, column in PRICE_FIELDS.items():
            value = bar.get(name)
            if not _is_number(value):
                raise PayloadError(PROVIDER, symbol, f"expected a number at {t}, got {value!r}", name)
            row[column] = float(value)
        count, vwap = bar.get("n"), bar.get("vw")
        if count is not None and not (_is_number(count) and float(count).is_integer()):
            raise PayloadError(PROVIDER, symbol, f"expected an integer or null at {t}, got {count!r}", "n")
        if vwap is not None and not _is_number(vwap):
            raise PayloadError(PROVIDER, symbol, f"expected a number or null at {t}, got {vwap!r}", "vw")
        row["trade_count"] = int(count) if count is not None else None
        row["vwap"] = float(vwap) if vwap is not None else None
        rows.append(row | {"feed": feed, "adjustment": adjustment})
    return rows


def answer_text(body: bytes) -> str:
    """What an error answer says: `message` (and `code`) of a JSON body, the title of an HTML
    page (nginx's 401), else the start of the text."""
    text = body.decode("utf-8", "replace")
    try:
        decoded = json.loads(text)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict) and isinstance(decoded.get("message"), str):
        code = decoded.get("code")
        return decoded["message"].strip() + (f" (code {code})" if code is not None else "")
    found = HTML_TITLE.search(text)
    if found:
        return found.group(1)
    return " ".join(text.split())[:200] or "(empty body)"


def answer_error(status: int, body: bytes) -> ProviderError:
    """The error a non-200 answer of `/v2/stocks/bars` raises (docs/provider-answers.md, "Alpaca").
    Keys travel in headers, which no answer echoes; the source redacts them anyway."""
    said = f"HTTP {status} from {BARS_PATH}: {answer_text(body)}"
    keys = f"check {KEY_ID_SETTING} / {SECRET_SETTING}"
    if status == 401:
        return ConfigurationError(PROVIDER, None, f"{said}: the keys were refused; {keys}")
    if status == 403:
        lowered = said.lower()
        if "sip" in lowered or "subscription" in lowered:
            return ConfigurationError(
                PROVIDER, None,
                f"{said}: the plan does not serve this feed's recent data; set {FEED_SETTING}=iex "
                f"(or {PLAN_SETTING}=plus for an account with a SIP subscription)",
            )  # fmt: skip
        return ConfigurationError(PROVIDER, None, f"{said}: the keys were refused; {keys}")
    if status == 429:
        return ProviderError(PROVIDER, None, f"{said}: still throttled after retries (ALPACA_CALLS_PER_MINUTE)")
    return ProviderError(PROVIDER, None, said)


def reset_delay(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds until `X-RateLimit-Reset` (UNIX seconds "when the quota changes", docs), or None
    when absent, malformed or past. Alpaca's 429 has no Retry-After [probe]."""
    value = headers.get("X-RateLimit-Reset")
    try:
        seconds = float(value) - now if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds > 0 else None
