"""Raw data written by hand as the providers' loads would have written it: the rows a test
changes are stamped with a new dlt load id and the load is recorded in `raw._dlt_loads`, as dlt's
merge does with a re-fetched day. A build reads what was loaded since the last one
(int_bar_recomputes_planned, flows/runtime/build_scope.py), so a change without a load is one no
provider could have made."""

from __future__ import annotations

import time

from extract.registry import PROVIDERS
from extract.settings import Settings
from flows.runtime.warehouse import execute, query


def new_load_id(settings: Settings) -> str:
    """A load id after every recorded one (dlt's are the load's Unix time)."""
    last = query(settings, "select max(load_id) from raw._dlt_loads")[0][0]
    return f"{max(time.time(), float(last or 0) + 1):.7f}"


def reload(settings: Settings, statements: list[str], rows: dict[str, str]) -> str:
    """Run `statements` (the test's change to raw), then stamp the rows `rows` selects (table
    -> SQL condition, `true` for all) with a new load id recorded for each provider owning one
    of the tables, in one transaction. Returns the load id."""
    load = new_load_id(settings)
    owners = {name for name, spec in PROVIDERS.items() if set(spec.raw_tables) & set(rows)}
    execute(
        settings,
        [
            *statements,
            *[f"update raw.{table} set _dlt_load_id = '{load}' where {where}" for table, where in rows.items()],
            *[
                "insert into raw._dlt_loads (load_id, schema_name, status, inserted_at, schema_version_hash) "
                f"values ('{load}', '{provider}', 0, current_timestamp, 'test')"
                for provider in sorted(owners)
            ],
        ],
    )
    return load
