"""HTTP clients for the providers: dlt's REST client on dlt's retrying session, metered.

dlt's session retries 429 (honouring Retry-After), 5xx, timeouts and connection errors with
exponential backoff; `retry_when` adds provider-specific cases such as Alpha Vantage's
HTTP-200 throttling bodies. Every attempt first takes a call from the provider's budget, and
every response is counted on the provider's report. One budget per provider and run: a
backfill's batches share theirs (`provider_budget`), so its windows carry over; day and month
counts are shared with every other run through the ledger (`extract.ledger`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient

from extract.ledger import Ledger, account_name, postgres_ledger, sqlite_ledger
from extract.ratelimit import BudgetedAdapter, RateBudget
from extract.report import ProviderReport
from extract.settings import Settings

MAX_ATTEMPTS = 5
MAX_RETRY_DELAY_SECONDS = 120


def provider_budget(
    provider: str, settings: Settings, now: dt.datetime, plan_limits: dict[str, int | None], base_url: str
) -> RateBudget:
    """A fresh call budget for a provider's plan (`plan_limits`) as the user may have changed it.
    Its day and month belong to the run's `now` (a run counts against the day it started on)."""
    limits = settings.budget_limits(provider, plan_limits)
    started = time.monotonic()
    return RateBudget(
        provider,
        per_second=limits["per_second"],
        per_minute=limits["per_minute"],
        per_day=limits["per_day"],
        per_month=limits["per_month"],
        window_seconds=limits["window_seconds"],
        ledger=ledger_for(settings),
        account=account_name(provider, base_url),
        wall_clock=lambda: now + dt.timedelta(seconds=time.monotonic() - started),
    )


def ledger_for(settings: Settings) -> Ledger:
    """The warehouse's call ledger: `ops.call_ledger` on Postgres, a SQLite file beside dlt's state otherwise."""
    if settings.destination == "postgres":
        import psycopg2

        return postgres_ledger(lambda: psycopg2.connect(**settings.postgres.connect_kwargs()))
    return sqlite_ledger(settings.dlt_dir / "call_ledger.sqlite3")


def rest_client(
    provider: str,
    base_url: str,
    settings: Settings,
    report: ProviderReport,
    headers: dict[str, str] | None = None,
    retry_when: Callable | None = None,
    classify: Callable | None = None,
    *,
    budget: RateBudget,
    pause_for: Callable | None = None,
) -> RESTClient:
    """A client metered by `budget` (shared by all of a provider's clients in a run). `retry_when`
    adds retry conditions to dlt's; `classify` tells the budget which answers are throttling;
    `pause_for` reads from a throttled answer how long until the provider's quota turns (for
    providers that say so in a header of their own rather than Retry-After)."""
    session = Client(
        request_timeout=settings.request_timeout,
        request_max_attempts=MAX_ATTEMPTS,
        request_backoff_factor=settings.backoff_factor,
        request_max_retry_delay=MAX_RETRY_DELAY_SECONDS,
        respect_retry_after_header=True,
        retry_condition=[retry_when] if retry_when else None,
        raise_for_status=False,
    ).session
    adapter = BudgetedAdapter(
        budget,
        classify=classify or (lambda response: None),
        pause_for=pause_for or (lambda response: None),
        pool_maxsize=max(10, settings.workers * 2),
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.hooks["response"].append(report.count_call)
    return RESTClient(base_url=base_url, headers=headers, session=session)
