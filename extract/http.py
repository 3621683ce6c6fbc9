"""HTTP clients for the providers: dlt's REST client on dlt's retrying session, metered.

dlt's session retries 429 (honouring Retry-After), 5xx, timeouts and connection errors with
exponential backoff; `retry_when` adds provider-specific cases such as Alpha Vantage's
HTTP-200 throttling bodies. Every attempt first takes a call from the provider's budget, and
every response is counted on the provider's report. One budget per provider and run: a
backfill's batches share theirs (`provider_budget`), so its window and day count carry over.
"""

from __future__ import annotations

from collections.abc import Callable

from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient

from extract.ratelimit import BudgetedAdapter, RateBudget
from extract.report import ProviderReport
from extract.settings import Settings

MAX_ATTEMPTS = 5
MAX_RETRY_DELAY_SECONDS = 120


def provider_budget(provider: str, settings: Settings) -> RateBudget:
    """A fresh call budget for a provider, as configured (or its plan's default)."""
    per_minute, per_day = settings.budget(provider)
    window = settings.budgets.get(provider, {}).get("window_seconds", 60.0)
    return RateBudget(provider, per_minute, per_day, window_seconds=window)


def rest_client(
    provider: str,
    base_url: str,
    settings: Settings,
    report: ProviderReport,
    headers: dict[str, str] | None = None,
    retry_when: Callable | None = None,
    budget: RateBudget | None = None,
) -> RESTClient:
    """A metered client; `budget` shares one provider budget between clients (default: its own)."""
    budget = budget or provider_budget(provider, settings)
    session = Client(
        request_timeout=settings.request_timeout,
        request_max_attempts=MAX_ATTEMPTS,
        request_backoff_factor=settings.backoff_factor,
        request_max_retry_delay=MAX_RETRY_DELAY_SECONDS,
        respect_retry_after_header=True,
        retry_condition=[retry_when] if retry_when else None,
        raise_for_status=False,
    ).session
    throttled = (lambda response: retry_when(response, None)) if retry_when else (lambda response: False)
    adapter = BudgetedAdapter(budget, is_throttled=throttled, pool_maxsize=max(10, settings.workers * 2))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.hooks["response"].append(report.count_call)
    return RESTClient(base_url=base_url, headers=headers, session=session)
