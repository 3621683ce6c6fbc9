"""Alternative.me Fear & Greed source: the market-wide daily index (`/fng/?limit=N`).

The first run asks for the whole history (`limit=0`); later runs ask for the days since the
cursor plus the lag. One row per day, merged on its timestamp.
"""

from __future__ import annotations

import datetime as dt

import dlt

from extract.errors import PayloadError, ProviderError
from extract.http import rest_client
from extract.report import ProviderReport
from extract.responses import json_body
from extract.settings import Settings

PROVIDER = "fear_greed"
ASSET = "fear_greed_index"


def index_rows(payload: object) -> list[dict]:
    """Validate `/fng/` entries; values and timestamps arrive as strings and stay that way."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        raise PayloadError(PROVIDER, ASSET, "missing or not a list", "data")
    error = payload.get("metadata", {}).get("error")
    if error:
        raise ProviderError(PROVIDER, ASSET, f"metadata.error: {error}")
    rows = []
    for entry in data:
        for name in ("value", "timestamp"):
            if not (isinstance(entry, dict) and isinstance(entry.get(name), str) and entry[name].isdigit()):
                raise PayloadError(PROVIDER, ASSET, f"expected a digit string, got {entry!r}", name)
        day = dt.datetime.fromtimestamp(int(entry["timestamp"]), dt.UTC).date()
        rows.append({**entry, "index_date": day})
    return rows


@dlt.source(name="fear_greed", max_table_nesting=0)
def fear_greed_source(settings: Settings, report: ProviderReport, now: dt.datetime):
    client = rest_client(settings.fear_greed_base_url, report, backoff_factor=settings.backoff_factor)

    @dlt.resource(
        name="fear_greed_index",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        primary_key="timestamp",
        columns={"index_date": {"data_type": "date"}, "time_until_update": {"data_type": "text", "nullable": True}},
    )
    def index():
        state = dlt.current.resource_state()
        cursor = state.get("last_date")
        limit = 0 if cursor is None else (now.date() - dt.date.fromisoformat(cursor)).days + settings.lag_days
        try:
            response = client.get("/fng/", params={"limit": limit})
            rows = index_rows(json_body(response, PROVIDER, ASSET))
        except ProviderError as exc:
            report.fail(ASSET, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - reported, and the other providers go on
            report.fail(ASSET, f"{type(exc).__name__}: {exc}")
            return
        yield rows
        if rows:
            state["last_date"] = max(row["index_date"] for row in rows).isoformat()
        report.succeed()

    return index
