"""Alpaca's metered HTTP client and what every `/v2/stocks/bars` caller shares: the base URL,
the keys to redact, the run's budget, the pages' decoding and the no-keys rule."""

from __future__ import annotations

import datetime as dt
import time

from dlt.common.json import json as dlt_json
from dlt.sources.helpers.rest_client import RESTClient

from extract.alpaca.helpers import answer_error, reset_delay
from extract.alpaca.settings import (
    BASE_URL,
    FREE_KEYS_URL,
    KEY_ID_HEADER,
    KEY_ID_SETTING,
    SECRET_HEADER,
    SECRET_SETTING,
    plan_limits,
)
from extract.errors import ConfigurationError, PayloadError
from extract.http import provider_budget, rest_client
from extract.ratelimit import RateBudget
from extract.report import ProviderReport
from extract.settings import Settings

PROVIDER = "alpaca"
NO_KEYS = f"{KEY_ID_SETTING} / {SECRET_SETTING} not set: Alpaca skipped (free keys: {FREE_KEYS_URL})"


def bars_client(settings: Settings, report: ProviderReport, budget: RateBudget) -> RESTClient:
    """dlt's REST client on the metered, retrying session, the keys in the session's headers (not
    the client's: dlt's debug log prints the client's request headers). A 429's X-RateLimit-Reset
    pauses the budget until Alpaca's quota turns."""
    client = rest_client(
        PROVIDER, base_url(settings), settings, report, budget=budget,
        pause_for=lambda response: reset_delay(response.headers, time.time()),
    )  # fmt: skip
    client.session.headers.update(
        {KEY_ID_HEADER: settings.alpaca_api_key_id or "", SECRET_HEADER: settings.alpaca_api_secret_key or ""}
    )
    return client


def page_payload(response) -> object:
    """The decoded body of a 200, or the error the answer means (helpers.answer_error)."""
    if response.status_code != 200:
        raise answer_error(response.status_code, response.content)
    try:
        return dlt_json.loadb(response.content)
    except ValueError:
        raise PayloadError(PROVIDER, None, f"invalid or truncated JSON ({len(response.content)} bytes)") from None


def configured(settings: Settings) -> bool:
    return bool(settings.alpaca_api_key_id and settings.alpaca_api_secret_key)


def skip_unconfigured(settings: Settings, report: ProviderReport, symbols: list[str]) -> None:
    """No keys: Alpaca is optional, so a note per symbol and no call. One key of the pair alone
    is a mistake: a configuration error naming the missing one."""
    if settings.alpaca_api_key_id or settings.alpaca_api_secret_key:
        missing = SECRET_SETTING if settings.alpaca_api_key_id else KEY_ID_SETTING
        report.block(ConfigurationError(PROVIDER, None, f"{missing} is not set (Alpaca needs both keys)"), symbols)
        return
    for symbol in symbols:
        report.note(symbol, NO_KEYS)


def base_url(settings: Settings) -> str:
    return settings.alpaca_base_url or BASE_URL


def secret_values(settings: Settings) -> list[str | None]:
    return [settings.alpaca_api_key_id, settings.alpaca_api_secret_key]


def run_budget(settings: Settings, now: dt.datetime) -> RateBudget:
    return provider_budget(PROVIDER, settings, now, plan_limits(settings.alpaca_plan), base_url(settings))
