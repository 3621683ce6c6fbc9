"""`market-elt status`: the runbook view of the warehouse, for people and (`--json`) machines.

- latest bar date and asset count per asset type (the runbook's own query);
- active assets missing their calendar's last expected bar (crypto: yesterday UTC, the last
  complete day; equities: the last closed session of their own exchange);
- the last runs and their outcome (ops.run_log);
- per-source freshness: when each provider's data last landed (dlt load ids of the rows).
"""

from __future__ import annotations

import datetime as dt
import json

from rich.console import Console
from rich.table import Table

from extract.calendars import last_closed_session, sessions
from extract.registry import PROVIDERS
from extract.settings import Settings
from flows.runtime.warehouse import columns_and_rows

RUNBOOK_SQL = (
    "SELECT asset_type, MAX(date), COUNT(DISTINCT db.asset_id) FROM daily_bars db "
    "JOIN assets a ON db.asset_id = a.asset_id GROUP BY asset_type ORDER BY asset_type"
)
LAST_BARS_SQL = """
select a.symbol, a.asset_type, coalesce(a.exchange, 'CRYPTO') as exchange, max(db.date) as last_date
from assets as a
left join daily_bars as db on a.asset_id = db.asset_id
where a.is_active
group by a.symbol, a.asset_type, a.exchange
order by a.symbol
"""
# The gate's last verdict: the newest run that got as far as the gate.
GATE_SQL = """
select finished_at, gate, quarantined
from ops.run_log
where gate is not null
order by finished_at desc
limit 1
"""
RUNS_SQL = """
select run_id, flow, provider, started_at, finished_at, status, run_status, plan, calls, rows_loaded, assets_failed,
    assets_deferred, failures, notes, dbt_pass, dbt_warn, dbt_error, errors
from ops.run_log
order by finished_at desc, provider
limit {limit}
"""
# A dlt load id is the Unix time of the load: the newest one among a table's rows is when
# that provider's data last landed (a run that loaded nothing does not count).
FRESHNESS_SQL = "select max(to_timestamp(cast(_dlt_load_id as double precision))) from {table}"


def _records(settings: Settings, sql: str) -> list[dict] | str:
    """Rows as dicts, or the reason they cannot be read (e.g. nothing built yet)."""
    try:
        columns, rows = columns_and_rows(settings, sql)
    except Exception as exc:  # noqa: BLE001 - status must render whatever exists
        return f"unavailable: {str(exc).splitlines()[0]}"
    return [dict(zip(columns, row, strict=True)) for row in rows]


def collect_status(settings: Settings, now: dt.datetime | None = None, runs: int = 10) -> dict:
    now = now or dt.datetime.now(dt.UTC)
    latest = _records(settings, RUNBOOK_SQL)
    last_bars = _records(settings, LAST_BARS_SQL)
    missing = last_bars
    if isinstance(last_bars, list):
        expected = {row["exchange"]: last_closed_session(row["exchange"], now) for row in last_bars}
        missing = [
            {**row, "expected": expected[row["exchange"]]}
            for row in last_bars
            if row["last_date"] is None or row["last_date"] < expected[row["exchange"]]
        ]
    provider_sections = {
        title: _records(settings, sql) for spec in PROVIDERS.values() for title, sql in spec.status_queries.items()
    }
    return {
        "as_of": now,
        "latest_by_asset_type": latest,
        "missing_last_expected_bar": missing,
        "last_runs": _records(settings, RUNS_SQL.format(limit=int(runs))),
        "freshness": _freshness(settings),
        "quarantined": _quarantined(settings),
        "providers": {title: rows for title, rows in provider_sections.items() if isinstance(rows, list) and rows},
    }


def _quarantined(settings: Settings) -> list[dict] | str:
    """Assets the last gate held back, with the tests that named them and sample rows."""
    rows = _records(settings, GATE_SQL)
    if not isinstance(rows, list) or not rows or not rows[0]["quarantined"]:
        return rows if isinstance(rows, str) else []
    held = json.loads(rows[0]["quarantined"])
    return [
        {
            "symbol": symbol,
            "asset_id": entry["asset_id"],
            "since_run": rows[0]["finished_at"],
            "tests": "; ".join(f"{test} ({found['rows']} rows)" for test, found in entry["tests"].items()),
            "sample": next((found["sample"][0] for found in entry["tests"].values() if found["sample"]), ""),
        }
        for symbol, entry in sorted(held.items())
    ]


def _freshness(settings: Settings) -> list[dict]:
    freshness = []
    for source, spec in PROVIDERS.items():
        rows = _records(settings, FRESHNESS_SQL.format(table=f"raw.{spec.raw_tables[0]}"))
        if isinstance(rows, list) and rows and next(iter(rows[0].values())) is not None:
            freshness.append({"source": source, "last_load": next(iter(rows[0].values()))})
    return freshness


MISSING_SESSIONS_SQL = """
select missing.symbol, coalesce(assets.exchange, 'CRYPTO'), missing.missing_date
from audit_failures.assert_no_missing_sessions as missing
inner join audit.assets as assets on missing.asset_id = assets.asset_id
order by missing.symbol, missing.missing_date
"""


def known_gap_rows(settings: Settings, reason: str) -> list[str]:
    """Rows for seeds/known_gaps.csv acknowledging the missing sessions the last gate saw: one
    row per run of consecutive missing sessions of an asset (on its own calendar), so
    `market-elt status --known-gaps "trading suspension" >> dbt_project/seeds/known_gaps.csv`
    acknowledges them all."""
    _, rows = columns_and_rows(settings, MISSING_SESSIONS_SQL)
    quoted = '"' + reason.replace('"', '""') + '"' if any(c in reason for c in ',"\n') else reason
    lines = []
    for symbol in dict.fromkeys(row[0] for row in rows):
        days = [day for sym, _, day in rows if sym == symbol]
        exchange = next(exchange for sym, exchange, _ in rows if sym == symbol)
        position = {day: index for index, day in enumerate(sessions(exchange, days[0], days[-1]))}
        start = previous = days[0]
        for day in [*days[1:], None]:
            if day is not None and position.get(day) == position.get(previous, -2) + 1:
                previous = day
                continue
            lines.append(f"{symbol},{start.isoformat()},{previous.isoformat()},{quoted}")
            start = previous = day
    return lines


def as_json(status: dict) -> str:
    return json.dumps(status, default=str, indent=2)


# The run log has more columns than a terminal: people get these, --json gets all.
RUN_COLUMNS = (
    "finished_at",
    "flow",
    "provider",
    "plan",
    "status",
    "run_status",
    "calls",
    "rows_loaded",
    "assets_failed",
)


def render(status: dict, console: Console | None = None) -> None:
    console = console or Console()
    console.print(f"[bold]market-elt status[/bold] as of {status['as_of']:%Y-%m-%d %H:%M} UTC")
    sections = (
        ("Latest bars by asset type", "latest_by_asset_type"),
        ("Active assets missing their last expected bar", "missing_last_expected_bar"),
        ("Freshness (last successful load per source)", "freshness"),
        ("Quarantined: held back by the last gate, published rows kept", "quarantined"),
        ("Last runs", "last_runs"),
    )
    sections += tuple((title, ("providers", title)) for title in status.get("providers", {}))
    for title, key in sections:
        rows = status["providers"][key[1]] if isinstance(key, tuple) else status[key]
        if isinstance(rows, str) or not rows:
            console.print(f"\n[bold]{title}[/bold]: {rows or 'none'}")
            continue
        columns = RUN_COLUMNS if key == "last_runs" else tuple(rows[0])
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
        console.print(table)
        if key == "last_runs":
            for row in rows:
                for line in filter(None, [row.get("failures"), row.get("notes"), row.get("errors")]):
                    console.print(f"  {row['provider'] or 'run'}: {line}")
