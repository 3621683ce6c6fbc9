"""dbt invoked in-process against the project and root profiles.yml, through dbt's own Python
API. A flow runs each dbt step as one Prefect task, not a task per node (Prefect's per-task
bookkeeping multiplied the dbt steps' time: docs/performance.md), parses the project once
(`parse_project`) and hands the manifest to every later invocation of the run.

profiles.yml reads DUCKDB_PATH and DBT_TARGET from the environment, so the resolved
settings are exported before each invocation: dlt and dbt then see the same warehouse.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from dbt.cli.main import dbtRunner

from extract.settings import PROJECT_ROOT, Settings
from flows.gate import TestOutcome
from flows.runtime import console, spark

FAILED_STATUSES = {"error", "fail", "runtime error"}
# The flows' steps (after `parse`, which writes the manifest): no artifact files.
STEPS_WITHOUT_ARTIFACTS = ("seed", "run", "test", "run-operation", "source")


class DbtCommandError(RuntimeError):
    """A dbt command failed; the message names every failing node."""


@dataclass
class DbtSummary:
    command: str
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    # Every test's outcome (data and unit tests), for the gate (flows/gate.py).
    tests: list[TestOutcome] = field(default_factory=list)
    seconds: float = 0.0
    # Each node's own execution time (dbt's timing), by unique id: where a step's time went.
    node_seconds: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        counts = ", ".join(f"{status}={n}" for status, n in sorted(self.counts.items()))
        return f"dbt {self.command}: {counts or 'nothing to do'}"

    def short_line(self) -> str:
        """`test 84 pass, 1 warn (3.1 s)`: the step's verb, its counts and how long it took."""
        verb = {"run-operation": "publish", "source": "freshness"}.get(self.command.split()[0], self.command.split()[0])
        counts = ", ".join(f"{n} {status}" for status, n in sorted(self.counts.items()))
        return f"{verb} {counts or 'nothing to do'} ({self.seconds:.1f} s)"


def dbt_args(command: list[str], settings: Settings) -> list[str]:
    """A dbt command line; in a quiet run (flows/runtime/console.py) dbt prints nothing and
    its log (info level) goes beside the run's log file."""
    args = [
        *command,
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(PROJECT_ROOT),
        "--target",
        settings.dbt_target,
    ]
    log_file = console.log_file()
    if log_file is not None:
        args[len(command) : len(command)] = ["--log-path", str(log_file.parent)]
    if command[0] in STEPS_WITHOUT_ARTIFACTS:
        # Their results are read in memory (invoke_dbt); writing manifest.json and
        # run_results.json after each step cost about a second of a small run's steps.
        args.insert(len(command), "--no-write-json")
    if "DBT_LOG_LEVEL_FILE" not in os.environ:
        # A line per node and step in dbt.log, not every statement's SQL (writing that debug log
        # was a sixth of a small run's test time); DBT_LOG_LEVEL_FILE=debug brings it back.
        args[len(command) : len(command)] = ["--log-level-file", "info"]
    if console.quiet():
        args.insert(len(command), "--quiet")
    return args


@contextlib.contextmanager
def _profile_environment(settings: Settings) -> Iterator[None]:
    """profiles.yml's variables for this call only: a run's warehouse must not leak into the
    process (a later run in the same process may use another one)."""
    wanted = {
        "DUCKDB_PATH": str(settings.duckdb_path),
        "DBT_TARGET": settings.dbt_target,
        "MARKET_ELT_LAKE_DIR": str(settings.lake_dir),
    }
    if settings.destination == "postgres":
        wanted |= settings.postgres.environ()
    if settings.destination == "spark":
        wanted |= spark.environ(settings)
    previous = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def describe_command(command: list[str]) -> str:
    """A dbt command line as a run's summary shows it: a selection of nodes by name (a build's
    scope, flows/runtime/build_scope.py) as its count."""
    if "--select" not in command or command[0] not in ("run", "test"):
        return " ".join(command)
    start = command.index("--select") + 1
    end = next((i for i in range(start, len(command)) if command[i].startswith("--")), len(command))
    return " ".join([*command[: start - 1], f"({end - start} selected)", *command[end:]])


def parse_project(settings: Settings):
    """The project's manifest (partial parsing keeps it quick), for `invoke_dbt(manifest=...)`."""
    with _profile_environment(settings):
        result = dbtRunner().invoke(dbt_args(["parse"], settings))
    if not result.success:
        raise DbtCommandError(f"dbt parse failed: {result.exception}")
    return result.result


def invoke_dbt(command: list[str], settings: Settings, tests_decide: bool = False, manifest=None) -> DbtSummary:
    """Run one dbt command (on `manifest`, else parsing the project first); raise
    DbtCommandError naming the failing nodes and their messages. With `tests_decide` (`dbt
    test` before the gate), failing tests do not raise: their outcomes are returned for the
    gate; only a failure of dbt itself does."""
    started = time.perf_counter()
    with _profile_environment(settings):
        result = dbtRunner(manifest=manifest).invoke(dbt_args(command, settings))
    summary = DbtSummary(command=describe_command(command), seconds=time.perf_counter() - started)
    results = getattr(result.result, "results", None) or []
    for node_result in results:
        status = str(node_result.status).lower()
        node = getattr(node_result, "node", None)  # run-operation results have none
        if getattr(node, "resource_type", None) == "operation" and status not in FAILED_STATUSES:
            continue  # the project's on-run-start hook (a no-op but on Spark): not a node the user counts
        summary.counts[status] = summary.counts.get(status, 0) + 1
        if node is not None:
            summary.node_seconds[node.unique_id] = float(getattr(node_result, "execution_time", 0) or 0)
        if status in FAILED_STATUSES:
            summary.failures.append(f"{getattr(node, 'name', summary.command)}: {node_result.message}")
        if getattr(node, "resource_type", None) in ("test", "unit_test"):
            summary.tests.append(
                TestOutcome(
                    name=node.name,
                    status=status,
                    failures=int(getattr(node_result, "failures", None) or 0),
                    relation=getattr(node, "relation_name", None),
                    message=str(node_result.message or ""),
                )
            )
    if not result.success and not (tests_decide and results and result.exception is None):
        detail = "; ".join(summary.failures) or str(result.exception)
        raise DbtCommandError(f"dbt {summary.command} failed: {detail}")
    return summary
