"""Scheduled runs on a single machine, without a work pool or worker: `prefect.serve` of the
deployments declared in prefect.yaml.

prefect.yaml stays the single source of truth for names, schedules and parameters: this module
reads it, so `prefect deploy --all` (server + process worker) and `serve_all()` (one process)
schedule the same runs. Building the deployment objects (`build_deployments`) is separate from
serving them, so it is testable without starting the runner loop.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import prefect
import yaml
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, Schedule
from prefect.types.entrypoint import EntrypointType

from extract.settings import PROJECT_ROOT
from flows.runtime.telemetry import quiet_environment

PREFECT_YAML = PROJECT_ROOT / "prefect.yaml"


@dataclass(frozen=True)
class DeploymentSpec:
    """One entry of prefect.yaml's `deployments:`, the fields market-elt uses."""

    name: str
    entrypoint: str
    schedules: tuple[Schedule, ...]
    parameters: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    tags: tuple[str, ...] = ()
    work_pool: str | None = None

    @property
    def module_path(self) -> str:
        """`flows/daily.py:daily` -> `flows.daily.daily`: importable wherever market-elt is installed."""
        path, function = self.entrypoint.rsplit(":", 1)
        return f"{Path(path).with_suffix('').as_posix().replace('/', '.')}.{function}"


def load_specs(path: Path = PREFECT_YAML) -> list[DeploymentSpec]:
    """Parse prefect.yaml's deployments; only cron schedules are used by this project."""
    document = yaml.safe_load(path.read_text())
    specs = []
    for entry in document.get("deployments") or []:
        schedules = tuple(
            Cron(item["cron"], timezone=item.get("timezone"), active=item.get("active", True))
            for item in entry.get("schedules") or []
        )
        specs.append(
            DeploymentSpec(
                name=entry["name"],
                entrypoint=entry["entrypoint"],
                schedules=schedules,
                parameters=entry.get("parameters") or {},
                description=entry.get("description"),
                tags=tuple(entry.get("tags") or ()),
                work_pool=(entry.get("work_pool") or {}).get("name"),
            )
        )
    return specs


def load_flow(spec: DeploymentSpec) -> prefect.Flow:
    module_name, attribute = spec.module_path.rsplit(".", 1)
    flow = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(flow, prefect.Flow):
        raise TypeError(f"{spec.entrypoint} is not a Prefect flow")
    return flow


def build_deployments(specs: list[DeploymentSpec] | None = None) -> list[RunnerDeployment]:
    """RunnerDeployments for `prefect.serve` (no work pool: the serving process runs them)."""
    return [
        load_flow(spec).to_deployment(
            name=spec.name,
            schedules=list(spec.schedules),
            parameters=spec.parameters,
            description=spec.description,
            tags=list(spec.tags),
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        for spec in (load_specs() if specs is None else specs)
    ]


def serve_all(limit: int = 1) -> None:
    """Serve every deployment of prefect.yaml until interrupted. `limit=1` runs one flow at a
    time: the DuckDB warehouse accepts a single writer."""
    prefect.serve(*build_deployments(), limit=limit)


if __name__ == "__main__":
    quiet_environment()
    serve_all()
