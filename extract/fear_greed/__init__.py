"""Alternative.me Fear & Greed source: the market-wide daily index (`/fng/?limit=N`).

The first run asks for the whole history (`limit=0`); later runs ask for the days since the
cursor plus the lag; a backfill asks for enough days to reach its start. One row per day,
merged on its timestamp.
"""

from __future__ import annotations

import datetime as dt

import dlt

from extract.backfill import Backfill
from extract.errors import PayloadError, ProviderError
from extract.fear_greed.settings import BASE_URL, plan_limits
from extract.fetching import fetch_each
from extract.http import provider_budget, rest_client
from extract.provider import Provider
from extract.ratelimit import RateBudget
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
    error = (payload.get("metadata") or {}).get("error")
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
def fear_greed_source(
    _assets: list[str],
    settings: Settings,
    report: ProviderReport,
    now: dt.datetime,
    backfill: Backfill | None = None,
    budget: RateBudget | None = None,
):
    client = rest_client(PROVIDER, base_url(settings), settings, report, budget=budget or run_budget(settings, now))

    @dlt.resource(
        name="fear_greed_index",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        primary_key="timestamp",
        columns={"index_date": {"data_type": "date"}, "time_until_update": {"data_type": "text", "nullable": True}},
    )
    def index():
        state = dlt.current.resource_state()
        cursor = state.get("last_date")
        if backfill:
            limit = (now.date() - backfill.start).days + 1
        elif cursor is None:
            limit = 0
        else:
            limit = (now.date() - dt.date.fromisoformat(cursor)).days + settings.lag_days

        def fetch(_asset: str) -> list[dict]:
            rows = index_rows(json_body(client.get("/fng/", params={"limit": limit}), PROVIDER, ASSET))
            return [row for row in rows if backfill.covers(row["index_date"])] if backfill else rows

        for _, rows in fetch_each([ASSET], fetch, report, 1, []):
            yield rows
            if rows and not backfill:
                state["last_date"] = max(row["index_date"] for row in rows).isoformat()
            report.succeed()

    return index


def base_url(settings: Settings) -> str:
    return settings.fear_greed_base_url or BASE_URL


def run_budget(settings: Settings, now: dt.datetime) -> RateBudget:
    return provider_budget(PROVIDER, settings, now, plan_limits(), base_url(settings))


PROVIDER_SPEC = Provider(
    name=PROVIDER,
    env_prefix="FEAR_GREED",
    emulator="extract.emulator.fear_greed",
    source=fear_greed_source,
    asset_ids=lambda _assets: [ASSET],
    budget=run_budget,
    raw_tables=("fear_greed_index",),
    asset_types=(),
    backfill_resource="fear_greed_index",
    secrets=lambda _settings: [],
)
