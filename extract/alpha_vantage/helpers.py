"""Pure Alpha Vantage parsing: classify HTTP-200 bodies, validate and flatten daily series."""

from __future__ import annotations

import datetime as dt
import re

from requests import Response

from extract.alpha_vantage.settings import ADJUSTED_FIELDS, DAILY_FIELDS, SERIES_KEY
from extract.errors import PayloadError, PlanError, ProviderError

PROVIDER = "alpha_vantage"
NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
PLAN_MARKERS = ("premium endpoint", "premium feature")


def is_throttle_body(response: Response | None, _exc: BaseException | None = None) -> bool:
    """A retry condition for dlt's session: Alpha Vantage signals throttling with HTTP 200 and
    a `Note` or a non-premium `Information` body, never with 429."""
    if response is None or response.status_code != 200 or len(response.content) > 2000:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and _notice(body) is not None and not _is_plan_notice(_notice(body))


def _notice(body: dict) -> str | None:
    notice = body.get("Note") or body.get("Information")
    return notice if isinstance(notice, str) else None


def _is_plan_notice(text: str) -> bool:
    return any(marker in text for marker in PLAN_MARKERS)


def daily_rows(payload: object, symbol: str, function: str) -> list[dict]:
    """Rows of `Time Series (Daily)` with the provider's fields kept as sent (strings).

    HTTP-200 bodies without data are classified, never loaded: `Error Message` (unknown
    symbol or bad call), premium `Information` (plan), other `Information`/`Note` (throttled)."""
    if not isinstance(payload, dict):
        raise PayloadError(PROVIDER, symbol, f"expected an object, got {type(payload).__name__}")
    if "Error Message" in payload:
        raise ProviderError(PROVIDER, symbol, f"rejected: {payload['Error Message']}")
    notice = _notice(payload)
    if notice is not None and SERIES_KEY not in payload:
        if _is_plan_notice(notice):
            other = "TIME_SERIES_DAILY" if function != "TIME_SERIES_DAILY" else "a premium plan"
            raise PlanError(
                PROVIDER,
                symbol,
                f"{function} needs a premium plan: set ALPHAVANTAGE_FUNCTION={other} or upgrade. ({notice[:120]}...)",
            )
        raise ProviderError(PROVIDER, symbol, f"throttled after retries: {notice[:160]}")
    series = payload.get(SERIES_KEY)
    meta = payload.get("Meta Data")
    if not isinstance(series, dict):
        raise PayloadError(PROVIDER, symbol, "missing or not an object", SERIES_KEY)
    if not isinstance(meta, dict) or not isinstance(meta.get("3. Last Refreshed"), str):
        raise PayloadError(PROVIDER, symbol, "missing", "Meta Data.3. Last Refreshed")
    fields = ADJUSTED_FIELDS if function == "TIME_SERIES_DAILY_ADJUSTED" else DAILY_FIELDS
    rows = []
    for day, values in series.items():
        try:
            date = dt.date.fromisoformat(day)
        except (TypeError, ValueError):
            raise PayloadError(PROVIDER, symbol, f"not a date: {day!r}", SERIES_KEY) from None
        if not isinstance(values, dict):
            raise PayloadError(PROVIDER, symbol, f"{day}: expected an object", SERIES_KEY)
        for name in fields:
            value = values.get(name)
            if not isinstance(value, str) or not NUMBER.fullmatch(value):
                raise PayloadError(PROVIDER, symbol, f"{day}: expected a numeric string, got {value!r}", name)
        rows.append(
            {
                "symbol": symbol,
                "date": date,
                "function": function,
                "last_refreshed": meta["3. Last Refreshed"],
                **{name: values[name] for name in fields},
            }
        )
    return rows
