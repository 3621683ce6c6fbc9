"""What a person at a terminal sees of a run, and where the full logs go.

On a terminal (unless `--verbose`): a progress bar per provider while it extracts, one line per
dbt step, warnings and failures as they happen, and a compact summary table at the end; every
Prefect, dbt and dlt log line goes to a log file whose path is printed. Not on a terminal (a
scheduler, a pipe) or with `--verbose`: every log line on the console as well, so nothing is lost.

The CLI calls `start()` before Prefect is imported (Prefect reads its console level from the
environment once); the flows' tasks call `step()`; the CLI renders the summary.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

QUIET_VARIABLE = "MARKET_ELT_QUIET"
LOG_FILE_VARIABLE = "MARKET_ELT_LOG_FILE"
# Loggers whose INFO lines go to the file (dlt keeps its own level, RUNTIME__LOG_LEVEL).
LOGGERS = ("prefect", "market_elt")


def quiet() -> bool:
    """The run shows progress and a summary instead of every log line."""
    return os.environ.get(QUIET_VARIABLE) == "1"


def log_file() -> Path | None:
    value = os.environ.get(LOG_FILE_VARIABLE)
    return Path(value) if value else None


def start(log_dir: Path, verbose: bool) -> Path:
    """Send every log line to a new file under `log_dir` (its path is returned); on a terminal,
    unless `verbose`, keep only warnings and failures on the console."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / f"run-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.log"
    os.environ[LOG_FILE_VARIABLE] = str(path)
    interactive = sys.stderr.isatty() and not verbose
    os.environ[QUIET_VARIABLE] = "1" if interactive else "0"
    if interactive:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
        os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")  # dlt's notices go to the file via its logger
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")  # a LocalCluster's start and stop
    # Prefect's logging configuration (read from the environment set above) replaces the
    # handlers of its loggers the first time it runs: run it now, then add ours.
    from prefect.logging.configuration import ensure_logging_setup

    ensure_logging_setup()

    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        if logger.level in (logging.NOTSET,) or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)
    return path


def step(line: str) -> None:
    """One line of a run's progress (a dbt step done), on the terminal only in quiet mode: the
    log line says the same otherwise."""
    if quiet():
        Console(stderr=True, highlight=False).print(f"  {line}")


def render_summary(summary, console: Console | None = None) -> None:
    """The run's outcome as one table per concern: providers, then dbt, marts, warnings, errors."""
    console = console or Console(stderr=False, highlight=False)
    if summary.providers:
        table = Table(title="Extract", title_justify="left", show_edge=False)
        budgets = [report.budget_line() for report in summary.providers]
        columns = ["provider", "plan", "calls", "rows", "ok", "failed", "deferred"]
        if any(budgets):
            columns.append("budget left")
        for column in columns:
            table.add_column(column, justify="left" if column in ("provider", "plan", "budget left") else "right")
        for report, budget in zip(summary.providers, budgets, strict=True):
            cells = [
                report.provider, (report.plan or "").split(" ")[0], str(report.calls), f"{report.rows:,}",
                str(report.assets_ok), str(len(report.failures)), str(len(report.deferred)),
            ]  # fmt: skip
            table.add_row(*cells, *([budget] if any(budgets) else []))
        console.print(table)
        for report in summary.providers:
            for asset, reason in sorted(report.failures.items()):
                console.print(f"  [red]failed[/red] {report.provider} {asset}: {reason}")
            by_note: dict[str, list[str]] = {}
            for asset, text in report.notes.items():
                by_note.setdefault(text, []).append(asset)
            for text, assets in by_note.items():
                console.print(f"  note {report.provider}: {text}: {', '.join(sorted(assets))}")
            if report.plan and " " in report.plan:
                console.print(f"  plan {report.provider}: {report.plan}")
            for text in report.warnings:
                console.print(f"  [yellow]warning[/yellow] {text}")
    if summary.dbt and not quiet():  # in quiet mode each step had its line as it finished
        console.print("dbt: " + "; ".join(step.short_line() for step in summary.dbt))
    for line in summary.marts:
        console.print(line)
    for warning in summary.warnings:
        console.print(f"[yellow]WARNING[/yellow] {warning}")
    for error in summary.errors:
        console.print(f"[red]ERROR[/red] {error}")
    path = log_file()
    if path is not None:
        # One unbroken line, so the path can be copied (and found) whole.
        console.print(f"full log: {path} (dbt's nodes: {path.parent / 'dbt.log'})", soft_wrap=True)
