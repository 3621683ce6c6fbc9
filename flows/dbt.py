"""dbt invoked in-process against the project and root profiles.yml.

Inside a Prefect flow run, prefect-dbt's runner turns every dbt node (model, test, seed) into a
Prefect task of its own, with its logs and state; elsewhere (CLI helpers, sqlfluff, docs) dbt's
own Python API runs it. Either way the result is summarised the same way.

profiles.yml reads DUCKDB_PATH and DBT_TARGET from the environment, so the resolved
settings are exported before each invocation: dlt and dbt then see the same warehouse.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from dbt.cli.main import dbtRunner
from prefect.context import FlowRunContext
from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings

from extract.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings

FAILED_STATUSES = {"error", "fail", "runtime error"}
SAMPLE_ROWS = 5


class DbtCommandError(RuntimeError):
    """A dbt command failed; the message names every failing node."""


@dataclass
class DbtSummary:
    command: str
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        counts = ", ".join(f"{status}={n}" for status, n in sorted(self.counts.items()))
        return f"dbt {self.command}: {counts or 'nothing to do'}"


def dbt_args(command: list[str], settings: Settings) -> list[str]:
    return [
        *command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_ROOT),
        "--target",
        settings.dbt_target,
    ]


@contextlib.contextmanager
def _profile_environment(settings: Settings) -> Iterator[None]:
    """profiles.yml's variables for this call only: a run's warehouse must not leak into the
    process (a later run in the same process may use another one)."""
    wanted = {"DUCKDB_PATH": str(settings.duckdb_path), "DBT_TARGET": settings.dbt_target}
    if settings.destination == "postgres":
        wanted |= settings.postgres.environ()
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


def _runner():
    if FlowRunContext.get() is None:
        return dbtRunner()
    project = PrefectDbtSettings(project_dir=DBT_PROJECT_DIR, profiles_dir=PROJECT_ROOT)
    return PrefectDbtRunner(settings=project, raise_on_failure=False)


def invoke_dbt(command: list[str], settings: Settings) -> DbtSummary:
    """Run one dbt command; raise DbtCommandError naming the failing nodes and their messages."""
    with _profile_environment(settings):
        result = _runner().invoke(dbt_args(command, settings))
    summary = DbtSummary(command=" ".join(command))
    for node_result in getattr(result.result, "results", None) or []:
        status = str(node_result.status).lower()
        summary.counts[status] = summary.counts.get(status, 0) + 1
        if status in FAILED_STATUSES:
            summary.failures.append(
                f"{node_result.node.name}: {node_result.message}{_failing_rows(node_result, settings)}"
            )
    if not result.success:
        detail = "; ".join(summary.failures) or str(result.exception)
        raise DbtCommandError(f"dbt {summary.command} failed: {detail}")
    return summary


def _failing_rows(node_result, settings: Settings) -> str:
    """The first rows a failed data test returned (asset, day, values), so the failure says
    what is wrong where without opening the warehouse."""
    node = node_result.node
    sql = getattr(node, "compiled_code", None)
    if getattr(node, "resource_type", None) != "test" or not sql or str(node_result.status).lower() != "fail":
        return ""
    from flows.warehouse import columns_and_rows

    try:
        columns, rows = columns_and_rows(settings, f"select * from ({sql}) as failing limit {SAMPLE_ROWS}")
    except Exception as exc:  # noqa: BLE001 - the failure itself is reported either way
        return f" (failing rows unavailable: {exc})"
    shown = "; ".join(", ".join(f"{c}={v}" for c, v in zip(columns, row, strict=True)) for row in rows)
    return f" -- e.g. {shown}"
