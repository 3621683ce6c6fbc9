"""Every Alpha Vantage notice text seen in the wild gets the behaviour its meaning calls for
(docs/provider-answers.md has each text's source): burst and minute throttles are retried, the
daily limit defers, plan refusals fall back, key problems are one configuration error, an
invalid call fails its symbol."""

from __future__ import annotations

import json

import pytest
import requests

from extract.alpha_vantage.helpers import ProviderQuotaError, is_retried_notice, raise_for_notice, throttle_kind
from extract.alpha_vantage.notices import Notice, classify
from extract.emulator import alpha_vantage as emulated
from extract.errors import ConfigurationError, PlanError, ProviderError

# (key, text, kind). Sources: docs/provider-answers.md, "Alpha Vantage".
TEXTS = [
    # The burst notice as quoted in issue 13 (2026) and in test fixtures since December 2025.
    (
        "Information",
        "Thank you for using Alpha Vantage! Please consider spreading out your free API requests more sparingly "
        "(1 request per second). You may subscribe to any of the premium plans at https://www.alphavantage.co/premium/"
        " to lift the free key rate limit (25 requests per day), raise the per-second burst limit, and instantly "
        "unlock all premium endpoints",
        Notice.BURST,
    ),
    # The burst notice recorded live on 2025-12-13 (beancount/beanprice#124).
    ("Information", emulated.BURST, Notice.BURST),
    # The daily limit, older and current wordings (the current one echoes the key).
    (
        "Information",
        "Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day. Please subscribe to "
        "any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits.",
        Notice.DAY,
    ),
    ("Information", emulated.DAY_LIMIT.format("ABC123"), Notice.DAY),
    # The per-minute Note of 2018-2023 keys (finance-quote#104) and the 2018 Information variant.
    ("Note", emulated.MINUTE_LIMIT, Notice.MINUTE),
    (
        "Information",
        "Thank you for using Alpha Vantage! Please kindly contact support@alphavantage.co if you would like to have a "
        "higher API call volume",
        Notice.MINUTE,
    ),
    # Premium endpoint (Gbox4/tstock#26, 2024-10-31) and its 2022 variant.
    ("Information", emulated.PREMIUM_ENDPOINT, Notice.PREMIUM_ENDPOINT),
    (
        "Information",
        "Thank you for using Alpha Vantage! This is a premium endpoint and there are multiple ways to unlock premium "
        "endpoints: (1) become a holder of Alpha Vantage Coin (AVC), ...",
        Notice.PREMIUM_ENDPOINT,
    ),
    # outputsize=full on the free plan (issue 13; verified against free keys in 2026).
    ("Information", emulated.PREMIUM_FULL.format("TIME_SERIES_DAILY"), Notice.PREMIUM_FEATURE),
    # The demo key, long and short wordings.
    ("Information", emulated.DEMO_KEY, Notice.DEMO_KEY),
    (
        "Information",
        "The demo API key is for demo purposes only. Please claim your free API key at "
        "https://www.alphavantage.co/support/#api-key. It should take less than 20 seconds.",
        Notice.DEMO_KEY,
    ),
    ("Error Message", emulated.MISSING_KEY, Notice.INVALID_KEY),
    ("Error Message", emulated.INVALID_CALL.format("TIME_SERIES_DAILY"), Notice.INVALID_CALL),
    ("Information", "Thank you for using Alpha Vantage! Something new.", Notice.UNKNOWN),
]
OUTCOMES = {
    Notice.BURST: (ProviderError, "throttled after retries"),
    Notice.MINUTE: (ProviderError, "throttled after retries"),
    Notice.UNKNOWN: (ProviderError, "throttled after retries"),
    Notice.DAY: (ProviderQuotaError, "today's requests are used up"),
    Notice.PREMIUM_ENDPOINT: (PlanError, "needs a premium plan"),
    Notice.PREMIUM_FEATURE: (PlanError, "outputsize=full needs a premium plan"),
    Notice.DEMO_KEY: (ConfigurationError, "ALPHAVANTAGE_API_KEY=demo"),
    Notice.INVALID_KEY: (ConfigurationError, "set ALPHAVANTAGE_API_KEY"),
    Notice.INVALID_CALL: (ProviderError, "rejected: Invalid API call"),
}


def _response(body: dict) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps(body).encode()
    return response


@pytest.mark.parametrize(
    ("key", "text", "kind"), TEXTS, ids=[f"{kind.value}-{i}" for i, (_, _, kind) in enumerate(TEXTS)]
)
def test_each_notice_is_classified_and_handled_by_what_it_means(key, text, kind):
    assert classify(key, text) is kind
    response = _response({key: text})
    assert is_retried_notice(response) == (kind in (Notice.BURST, Notice.MINUTE, Notice.UNKNOWN))
    assert throttle_kind(response) == {Notice.BURST: "burst", Notice.MINUTE: "throttled"}.get(
        kind, "throttled" if kind is Notice.UNKNOWN else None
    )
    error, words = OUTCOMES[kind]
    with pytest.raises(error, match=words) as raised:
        raise_for_notice({key: text}, "AAPL", "TIME_SERIES_DAILY")
    if error is PlanError:
        assert raised.value.kind == ("endpoint" if kind is Notice.PREMIUM_ENDPOINT else "full")


def test_the_burst_notice_is_not_mistaken_for_a_plan_refusal():
    """It ends with "unlock all premium endpoints" and mentions "(25 requests per day)"."""
    assert "premium endpoints" in emulated.BURST and "25 requests per day" in emulated.BURST
    assert classify("Information", emulated.BURST) is Notice.BURST


def test_a_series_with_a_note_beside_it_is_data():
    raise_for_notice({"Note": emulated.MINUTE_LIMIT, "Time Series (Daily)": {}}, "AAPL", "TIME_SERIES_DAILY")
