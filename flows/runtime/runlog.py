"""The run log: one row per run and provider in the warehouse's `ops.run_log`, written by dlt
(append), so `market-elt status`, dashboards and on-call read what happened from SQL."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import dlt

from extract.pipeline import destination, loader_file_format
from extract.settings import Settings
from flows.runtime.summary import RunSummary

OPS_DATASET = "ops"
COLUMNS = {
    "run_id": {"data_type": "text", "nullable": False},
    "flow": {"data_type": "text"},
    "provider": {"data_type": "text"},
    "started_at": {"data_type": "timestamp"},
    "finished_at": {"data_type": "timestamp"},
    "status": {"data_type": "text"},
    "run_status": {"data_type": "text"},
    "calls": {"data_type": "bigint"},
    "rows_loaded": {"data_type": "bigint"},
    "assets_ok": {"data_type": "bigint"},
    "assets_failed": {"data_type": "bigint"},
    "assets_deferred": {"data_type": "bigint"},
    "failures": {"data_type": "text", "nullable": True},
    "plan": {"data_type": "text", "nullable": True},
    # What limited the run without failing it: per-asset notes and warnings (JSON).
    "notes": {"data_type": "text", "nullable": True},
    "dbt_pass": {"data_type": "bigint"},
    "dbt_warn": {"data_type": "bigint"},
    "dbt_error": {"data_type": "bigint"},
    "dbt_skip": {"data_type": "bigint"},
    "errors": {"data_type": "text", "nullable": True},
    # The gate's verdict (published | quarantined | blocked) and the assets it held back (JSON).
    "gate": {"data_type": "text", "nullable": True},
    "quarantined": {"data_type": "text", "nullable": True},
}


def run_log_rows(summary: RunSummary, flow: str, run_id: str, started: dt.datetime) -> list[dict]:
    """One row per provider (or one row for a transform-only run). `status` is the provider's
    own outcome (ok, deferred, failed); `run_status`, the dbt counts and `errors` are the
    run's, repeated on each row so any row alone tells the whole story."""
    finished = dt.datetime.now(dt.UTC)
    dbt_counts: dict[str, int] = {}
    for step in summary.dbt:
        for status, count in step.counts.items():
            dbt_counts[status] = dbt_counts.get(status, 0) + count
    shared = {
        "run_id": run_id,
        "flow": flow,
        "started_at": started,
        "finished_at": finished,
        "status": "ok" if summary.ok else "failed",
        "run_status": "ok" if summary.ok else "failed",
        "dbt_pass": dbt_counts.get("pass", 0) + dbt_counts.get("success", 0),
        "dbt_warn": dbt_counts.get("warn", 0),
        "dbt_error": sum(dbt_counts.get(s, 0) for s in ("error", "fail", "runtime error")),
        "dbt_skip": dbt_counts.get("skipped", 0),
        "errors": "\n".join(summary.errors) or None,
        "gate": summary.gate.outcome if summary.gate else None,
        "quarantined": json.dumps(summary.gate.as_record()) if summary.gate and summary.gate.quarantined else None,
    }
    rows = [
        {
            **shared,
            "provider": report.provider,
            "started_at": report.started,
            "status": "failed" if not report.ok else "deferred" if report.deferred else "ok",
            "calls": report.calls,
            "rows_loaded": report.rows,
            "assets_ok": report.assets_ok,
            "assets_failed": len(report.failures),
            "assets_deferred": len(report.deferred),
            "failures": json.dumps(report.failures) if report.failures else None,
            "plan": report.plan,
            "notes": _notes(report),
        }
        for report in summary.providers
    ]
    empty = {"provider": None, "calls": 0, "rows_loaded": 0, "assets_ok": 0, "assets_failed": 0, "assets_deferred": 0}
    return rows or [{**shared, **empty, "failures": None, "plan": None, "notes": None}]


def _notes(report) -> str | None:
    """Per-asset notes and the warnings (under "warnings") as JSON, or None."""
    notes = {**report.notes, **({"warnings": report.warnings} if report.warnings else {})}
    return json.dumps(notes) if notes else None


def record_run(settings: Settings, summary: RunSummary, flow: str, started: dt.datetime, run_id: str | None) -> None:
    pipeline = dlt.pipeline(
        pipeline_name="market_elt_ops",
        pipelines_dir=str(settings.dlt_dir),
        destination=destination(settings),
        dataset_name=OPS_DATASET,
    )
    rows = run_log_rows(summary, flow, run_id or uuid.uuid4().hex, started)
    pipeline.run(
        rows,
        table_name="run_log",
        write_disposition="append",
        columns=COLUMNS,
        loader_file_format=loader_file_format(settings),
    )
