"""HTTP clients for the providers: dlt's REST client on dlt's retrying session.

dlt's session retries 429 (honouring Retry-After), 5xx, timeouts and connection errors with
exponential backoff; `retry_when` adds provider-specific cases such as Alpha Vantage's
HTTP-200 throttling bodies. Every response is counted on the provider's report.
"""

from __future__ import annotations

from collections.abc import Callable

from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient

from extract.report import ProviderReport

REQUEST_TIMEOUT_SECONDS = 30
MAX_ATTEMPTS = 5


def rest_client(
    base_url: str,
    report: ProviderReport,
    headers: dict[str, str] | None = None,
    retry_when: Callable | None = None,
    backoff_factor: float = 1.0,
    max_retry_delay: float = 120,
) -> RESTClient:
    conditions = [retry_when] if retry_when else None
    session = Client(
        request_timeout=REQUEST_TIMEOUT_SECONDS,
        request_max_attempts=MAX_ATTEMPTS,
        request_backoff_factor=backoff_factor,
        request_max_retry_delay=max_retry_delay,
        respect_retry_after_header=True,
        retry_condition=conditions,
        raise_for_status=False,
    ).session
    session.hooks["response"].append(report.count_call)
    return RESTClient(base_url=base_url, headers=headers, session=session)
