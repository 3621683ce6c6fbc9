"""Pure Alpha Vantage parsing: classify HTTP-200 bodies, validate daily series into Arrow tables."""

from __future__ import annotations

import array
import base64
import datetime as dt
import functools
import operator
import re
import secrets
from collections.abc import Callable

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
from requests import Response

from extract.alpha_vantage.notices import RETRIED, Notice, classify, notice_text
from extract.alpha_vantage.settings import FIELDS, FREE_KEY_URL, KEY_SETTING, RAW_FIELDS, SERIES_KEYS
from extract.errors import ConfigurationError, PayloadError, PlanError, ProviderError
from extract.ledger import BudgetExhaustedError

PROVIDER = "alpha_vantage"
# ASCII digits only, in Python as in Arrow's regex engine (RE2).
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", re.ASCII)
# A field's values are checked joined by the ASCII unit separator, in one regex match (anchored
# because Arrow's regex match looks for a substring).
SEPARATOR = "\x1f"
NUMBERS = re.compile(rf"^(?:{NUMBER.pattern}{SEPARATOR})*{NUMBER.pattern}$")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class ProviderQuotaError(BudgetExhaustedError):
    """The provider itself said the day's requests are spent (whatever our own count says)."""


# The raw table's whole shape, in one order for both functions, key columns NOT NULL as in dlt's
# schema: dlt then writes each table as it is (a mismatch costs a rewrite or a warning per table).
SCHEMA = pa.schema(
    [
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("date", pa.date32(), nullable=False),
        ("function", pa.string()),
        ("last_refreshed", pa.string()),
        *[(name, pa.string()) for name in RAW_FIELDS],
    ]
)


def response_notice(response: Response | None) -> Notice | None:
    """The kind of an HTTP-200 notice body (small: a series is never under 2 kB), else None."""
    if response is None or response.status_code != 200 or len(response.content) > 2000:
        return None
    try:
        found = notice_text(response.json())
    except ValueError:
        return None
    return classify(*found) if found else None


def is_retried_notice(response: Response | None, _exc: BaseException | None = None) -> bool:
    """A retry condition for dlt's session: Alpha Vantage throttles with HTTP 200 and a notice,
    never with 429. Quota, plan and key notices are final: retrying cannot change them."""
    return response_notice(response) in RETRIED


def throttle_kind(response: Response) -> str | None:
    """For the budget's adapter: "burst" (wait out the second) or "throttled" (the minute)."""
    notice = response_notice(response)
    return "burst" if notice is Notice.BURST else "throttled" if notice in RETRIED else None


def raise_for_notice(payload: dict, symbol: str, function: str) -> None:
    """Raise what a body without data means (see notices.py); return if it carries data."""
    found = notice_text(payload)
    if found is None or (found[0] != "Error Message" and SERIES_KEYS.get(function) in payload):
        return
    key, text = found
    notice = classify(key, text)
    if notice is Notice.DAY:
        raise ProviderQuotaError(f"{PROVIDER}: the provider says today's requests are used up ({text[:120]})")
    if notice is Notice.PREMIUM_ENDPOINT:
        raise PlanError(PROVIDER, symbol, f"{function} needs a premium plan ({text[:100]}...)", kind="endpoint")
    if notice is Notice.PREMIUM_FEATURE:
        raise PlanError(PROVIDER, symbol, f"outputsize=full needs a premium plan ({text[:100]}...)", kind="full")
    if notice is Notice.DEMO_KEY:
        raise ConfigurationError(
            PROVIDER, None, f"{KEY_SETTING}=demo only serves the documentation's examples: claim a free key at "
            f"{FREE_KEY_URL} and set {KEY_SETTING} to it",
        )  # fmt: skip
    if notice is Notice.INVALID_KEY:
        raise ConfigurationError(
            PROVIDER,
            None,
            f"the provider says the API key is invalid or missing: set {KEY_SETTING} (free at {FREE_KEY_URL})",
        )
    if notice is Notice.INVALID_CALL:
        raise ProviderError(PROVIDER, symbol, f"rejected: {text}")
    raise ProviderError(PROVIDER, symbol, f"throttled after retries: {text[:160]}")


def daily_table(payload: object, symbol: str, function: str) -> pa.Table:
    """`Time Series (Daily)` as one Arrow table: the provider's fields kept as sent (strings; the
    other function's fields null), plus `symbol`, `date`, `function` and `last_refreshed`.

    Built and validated column by column in Arrow (a full history is ~3,650 rows x 8 fields
    per symbol: a Python check and dict per row cost more than the load itself); only a
    payload that fails the vectorised checks is walked row by row, to name the bad day and
    field. HTTP-200 bodies without data are classified, never loaded: `Error Message`
    (unknown symbol or bad call), premium `Information` (plan), other `Information`/`Note`
    (throttled)."""
    if not isinstance(payload, dict):
        raise PayloadError(PROVIDER, symbol, f"expected an object, got {type(payload).__name__}")
    raise_for_notice(payload, symbol, function)
    series_key = SERIES_KEYS[function]
    series = payload.get(series_key)
    meta = payload.get("Meta Data")
    if not isinstance(series, dict):
        raise PayloadError(PROVIDER, symbol, "missing or not an object", series_key)
    if not isinstance(meta, dict) or not isinstance(meta.get("3. Last Refreshed"), str):
        raise PayloadError(PROVIDER, symbol, "missing", "Meta Data.3. Last Refreshed")
    fields = _fields(function)
    days = list(series.values())
    try:
        joined = [SEPARATOR.join(map(operator.itemgetter(name), days)) for name in fields]
    except (KeyError, TypeError):  # a day without the field, not an object, or a non-string value
        joined = None
    last_refreshed = meta["3. Last Refreshed"]
    table = None if joined is None else _series_table(symbol, function, last_refreshed, list(series), joined)
    if table is None:
        raise _first_bad_row(series, symbol, fields, series_key)
    return table


def typed_daily_table(body: bytes, symbol: str, function: str) -> pa.Table | None:
    """`daily_table` of an HTTP-200 body holding a well-formed series, decoded by msgspec
    straight into typed objects (each field must be a JSON string): less work than decoding
    into dicts. None for any other body (notices, errors, a bad day or value, not JSON):
    `daily_table` on the decoded body classifies it or names the day and field, so both
    paths give the same table or the same error."""
    decoder, getters = _typed_decoder(function)
    try:
        payload = decoder.decode(body)
    except msgspec.DecodeError:  # also raised for a value of the wrong type
        return None
    if payload.error_message is not None:
        return None
    days = list(payload.series.values())
    joined = [SEPARATOR.join(map(get, days)) for get in getters]
    return _series_table(symbol, function, payload.meta.last_refreshed, list(payload.series), joined)


def _fields(function: str) -> tuple[str, ...]:
    return FIELDS[function]


@functools.cache
def _typed_decoder(function: str) -> tuple[msgspec.json.Decoder, list[Callable]]:
    """The msgspec decoder of a series body for `function`, and a getter per field."""
    names = {f"field_{i}": name for i, name in enumerate(_fields(function))}
    day = msgspec.defstruct("Day", [(attr, str) for attr in names], rename=names, gc=False)
    meta = msgspec.defstruct("Meta", [("last_refreshed", str)], rename={"last_refreshed": "3. Last Refreshed"})
    body = msgspec.defstruct(
        "Body",
        [("meta", meta), ("series", dict[str, day]), ("error_message", str | None, None)],
        rename={"meta": "Meta Data", "series": SERIES_KEYS[function], "error_message": "Error Message"},
    )
    return msgspec.json.Decoder(body), [operator.attrgetter(attr) for attr in names]


def _series_table(symbol: str, function: str, last_refreshed: str, days: list, joined: list[str]) -> pa.Table | None:
    """The raw table of one symbol's days, or None when a date or a value fails the checks
    (the caller then names the first bad one). `joined`: each field's values in day order,
    joined by SEPARATOR. Arrow checks and splits one string per field: converting a full
    history's ~29,000 Python strings one by one cost more than decoding the JSON."""
    rows = len(days)
    try:
        dates = pc.cast(pa.array(days, pa.string()), pa.date32())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    columns = [pa.array([], pa.string())] * len(joined)
    if rows:
        fields = pa.array(joined, pa.string())
        if not pc.all(pc.match_substring_regex(fields, NUMBERS.pattern)).as_py():
            return None
        split = pc.split_pattern(fields, SEPARATOR)
        if pc.any(pc.not_equal(pc.list_value_length(split), rows)).as_py():
            return None  # a value held the separator itself
        values = split.flatten()
        columns = [values.slice(i * rows, rows) for i in range(len(joined))]
    sent = dict(zip(_fields(function), columns, strict=True))
    return pa.Table.from_arrays(
        [
            pa.repeat(symbol, rows),
            dates,
            pa.repeat(function, rows),
            pa.repeat(last_refreshed, rows),
            *[sent.get(name, pa.nulls(rows, pa.string())) for name in RAW_FIELDS],
        ],
        schema=SCHEMA,
    )


def row_ids(rows: int) -> pa.Array:
    """`rows` random row ids for dlt's `_dlt_id`: like dlt's own (base64 of random bytes), but
    built in two C calls instead of a Python string per row. 12 bytes
    each (dlt's default is 10), so the base64 of all of them splits into 16-character ids."""
    data = base64.b64encode(secrets.token_bytes(12 * rows))
    offsets = array.array("i", range(0, 16 * rows + 1, 16))
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data))


def _first_bad_row(series: dict, symbol: str, fields: tuple[str, ...], series_key: str) -> PayloadError:
    """The error for the first bad day and field, found by walking the rows the way a reader
    would (only once the column checks failed)."""
    for day, values in series.items():
        if not (isinstance(day, str) and DATE.fullmatch(day)):
            return PayloadError(PROVIDER, symbol, f"not a date: {day!r}", series_key)
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            return PayloadError(PROVIDER, symbol, f"not a date: {day!r}", series_key)
        if not isinstance(values, dict):
            return PayloadError(PROVIDER, symbol, f"{day}: expected an object", series_key)
        for name in fields:
            value = values.get(name)
            if not isinstance(value, str) or not NUMBER.fullmatch(value):
                return PayloadError(PROVIDER, symbol, f"{day}: expected a numeric string, got {value!r}", name)
    return PayloadError(PROVIDER, symbol, "a date or a value failed the column checks", series_key)


# SPLITS and DIVIDENDS: {"symbol": ..., "data": [{...}, ...]}, every value a string, unknown dates "None".
CORPORATE_ACTION_FIELDS = {
    "SPLITS": ("effective_date", ("split_factor",)),
    "DIVIDENDS": ("ex_dividend_date", ("amount",)),
}


def corporate_action_rows(payload: object, symbol: str, function: str) -> list[dict]:
    """The rows of a SPLITS or DIVIDENDS answer, fields as sent plus `symbol`; the event date
    (effective or ex-dividend) must be a date and the factor or amount a number."""
    if not isinstance(payload, dict):
        raise PayloadError(PROVIDER, symbol, f"expected an object, got {type(payload).__name__}")
    raise_for_notice(payload, symbol, function)
    data = payload.get("data")
    if not isinstance(data, list):
        raise PayloadError(PROVIDER, symbol, "missing or not a list", f"{function}.data")
    date_field, number_fields = CORPORATE_ACTION_FIELDS[function]
    rows = []
    for event in data:
        if not isinstance(event, dict):
            raise PayloadError(PROVIDER, symbol, f"expected an object, got {event!r}", f"{function}.data")
        day = event.get(date_field)
        if not (isinstance(day, str) and DATE.fullmatch(day)):
            raise PayloadError(PROVIDER, symbol, f"not a date: {day!r}", date_field)
        for name in number_fields:
            value = event.get(name)
            if not (isinstance(value, str) and NUMBER.fullmatch(value)):
                raise PayloadError(PROVIDER, symbol, f"{day}: expected a numeric string, got {value!r}", name)
        rows.append({**{k: v for k, v in event.items() if isinstance(v, str)}, "symbol": symbol})
    return rows
