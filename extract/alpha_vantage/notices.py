"""What an Alpha Vantage HTTP-200 body without data means, from the texts the API really sends.

Alpha Vantage answers throttling, quota, plan and key problems with HTTP 200 and a one-key JSON
object (`Information`, `Note` or `Error Message`). Each text is matched by a phrase that only
its kind of answer contains; the order matters, since the burst notice also ends with "unlock
all premium endpoints" and mentions "(25 requests per day)". The texts and their sources are in
docs/provider-answers.md; tests/extract/test_alpha_vantage_notices.py feeds each one in.
"""

from __future__ import annotations

import enum


class Notice(enum.Enum):
    BURST = "burst"  # too many this second: wait a second, then pace at the plan's rate
    MINUTE = "minute"  # the per-minute throttle of older keys: wait for the window
    DAY = "day"  # the day's requests are spent: stop calling until tomorrow, defer the rest
    PREMIUM_ENDPOINT = "premium endpoint"  # the function needs a premium plan
    PREMIUM_FEATURE = "premium feature"  # a parameter value (outputsize=full) needs one
    DEMO_KEY = "demo key"  # apikey=demo: documentation examples only
    INVALID_KEY = "invalid key"  # apikey missing or empty
    INVALID_CALL = "invalid call"  # unknown symbol or bad parameters: that symbol fails
    UNKNOWN = "unknown"  # a notice not seen before: treated as throttling, retried


RETRIED = frozenset({Notice.BURST, Notice.MINUTE, Notice.UNKNOWN})
PLAN_REFUSALS = frozenset({Notice.PREMIUM_ENDPOINT, Notice.PREMIUM_FEATURE})
CONFIGURATION = frozenset({Notice.DEMO_KEY, Notice.INVALID_KEY})

# (phrase, kind), first match wins.
MARKERS = (
    ("spreading out your free API requests", Notice.BURST),
    ("requests per day. Please subscribe", Notice.DAY),
    ("rate limit is 25 requests per day", Notice.DAY),
    ("calls per minute", Notice.MINUTE),
    ("higher API call volume", Notice.MINUTE),
    ("higher API call frequency", Notice.MINUTE),
    ("is a premium endpoint", Notice.PREMIUM_ENDPOINT),
    ("is a premium feature", Notice.PREMIUM_FEATURE),
    ("demo** API key is for demo purposes", Notice.DEMO_KEY),
    ("demo API key is for demo purposes", Notice.DEMO_KEY),
    ("apikey is invalid or missing", Notice.INVALID_KEY),
)


def notice_text(body: object) -> tuple[str, str] | None:
    """(key, text) of a body that carries no data, or None for anything else (a series, a list)."""
    if not isinstance(body, dict):
        return None
    for key in ("Error Message", "Information", "Note"):
        text = body.get(key)
        if isinstance(text, str):
            return key, text
    return None


def classify(key: str, text: str) -> Notice:
    for phrase, kind in MARKERS:
        if phrase in text:
            return kind
    return Notice.INVALID_CALL if key == "Error Message" else Notice.UNKNOWN
