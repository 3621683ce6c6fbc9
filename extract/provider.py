"""What a provider package declares, so the pipeline, the CLI, the status view and the emulator
treat every provider alike. Each package under `extract/` defines one `Provider` (its
`PROVIDER_SPEC`), and `extract/registry.py` lists them: adding a provider is a package plus a
line there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from extract.assets import Asset
    from extract.backfill import Backfill
    from extract.ratelimit import RateBudget
    from extract.settings import Settings


@dataclass(frozen=True)
class Provider:
    name: str
    # Prefix of its budget variables (COINGECKO_CALLS_PER_MINUTE, ...).
    env_prefix: str
    # The emulator's routes for it (a module of extract/emulator).
    emulator: str
    # (asset ids, settings, report, now, backfill, budget) -> the dlt source
    source: Callable[..., object]
    # The provider's ids of the universe's active assets it serves.
    asset_ids: Callable[[list[Asset]], list[str]]
    # A fresh call budget for a run (a backfill's batches share one).
    budget: Callable[[Settings, dt.datetime], RateBudget]
    # Its tables in `raw`; the first is the one whose newest load says when data last landed.
    raw_tables: tuple[str, ...]
    # The resource whose state remembers the assets a backfill finished.
    backfill_resource: str
    # Asset types whose bars it provides (none for market-wide data).
    asset_types: tuple[str, ...]
    # Secrets to redact from every message (keys travel in query strings).
    secrets: Callable[[Settings], list[str | None]]
    # Resources yield Arrow tables (bulk-loaded as parquet/CSV) rather than dict rows.
    arrow: bool = False
    # Calls one asset of a backfill takes on the configured plan (sizes the backfill's batches).
    calls_per_asset: Callable[[Backfill, Settings, dt.datetime], int] = lambda _backfill, _settings, _now: 1
    # Extra sections of `market-elt status`: title -> SQL over the warehouse (e.g. plan limits).
    status_queries: dict[str, str] = field(default_factory=dict)
