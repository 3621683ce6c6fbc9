"""Turn an HTTP response into JSON or a ProviderError that says what happened, key-free."""

from __future__ import annotations

import json
from collections.abc import Callable

from dlt.common.json import json as dlt_json
from requests import Response

from extract.errors import PayloadError, ProviderError


def error_text(body: object) -> str:
    """The message inside any of CoinGecko's error shapes ({"error": str},
    {"status": {...}}, {"error_code", "status": {...}}, {"error": {"status": {...}}}) or a body."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, str):
            return inner
        status = inner.get("status", inner) if isinstance(inner, dict) else {}
        code = status.get("error_code", inner.get("error_code") if isinstance(inner, dict) else None)
        message = status.get("error_message") or json.dumps(body)[:300]
        return f"{message.strip()} (error_code {code})" if code else message.strip()
    return str(body)[:300]


def json_body(
    response: Response,
    provider: str,
    asset: str | None,
    classify_error: Callable[[int | None, int, str], ProviderError | None] | None = None,
) -> object:
    """The decoded body of a successful response; otherwise raise with the provider's own reason.
    `classify_error(error_code, http_status, message)` turns what a provider's codes mean into
    the error to raise (a plan refusal, a configuration error); None means a plain failure."""
    body = _decode(response)
    if response.status_code != 200:
        reason = error_text(body) if body is not None else response.text.strip()[:300]
        message = f"HTTP {response.status_code} from {response.request.path_url.split('?')[0]}: {reason}"
        error = classify_error(_error_code(body), response.status_code, message) if classify_error else None
        raise error or ProviderError(provider, asset, message)
    if body is None:
        raise PayloadError(provider, asset, f"invalid or truncated JSON ({len(response.content)} bytes)")
    return body


def _decode(response: Response) -> object:
    """orjson (through dlt) first, as it is the faster decoder (docs/performance.md, "Load"); the
    lenient decoder still gets what orjson refuses (NaN, integers beyond 64 bits)."""
    try:
        return dlt_json.loadb(response.content)
    except ValueError:
        pass
    try:
        return response.json()
    except ValueError:
        return None


def _error_code(body: object) -> int | None:
    if not isinstance(body, dict):
        return None
    inner = body.get("error", body)
    if not isinstance(inner, dict):
        return None
    status = inner.get("status", {})
    return status.get("error_code", inner.get("error_code")) if isinstance(status, dict) else inner.get("error_code")
