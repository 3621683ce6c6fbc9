"""A provider's extraction in batches run by other processes or machines (the Dask task runner),
its dlt state kept whole.

dlt keeps one state per pipeline (cursors, a backfill's finished assets, a learned plan) and
commits it to the warehouse with every load; a pipeline in a new working directory restores it
from there. A batch runs the provider's own pipeline in a fresh temporary directory (as dlt's
Airflow helper runs its tasks): it restores the state committed so far, extracts its assets and
commits their data with that state plus its own progress, in one load. Batches running at the
same time each commit such a state, so the newest lacks the others' progress: the coordinator
(the flow) merges every batch's changes into the provider's state and commits it last
(`commit_changes`). Should it never get there, the state committed last still never runs ahead
of the data loaded: the assets whose progress it lacks are fetched again by the next run (loads
merge, so nothing is duplicated).

The coordinator runs a provider's first batch alone, then the others together (dlt's Airflow
helper does the same by default): the first creates the provider's tables and commits what the
others must know before they start (Alpha Vantage's plan, learned from its first answer).
"""

from __future__ import annotations

import contextlib
import copy
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from extract.pipeline import Coordination, holding_warehouse, pipeline_for
from extract.report import ProviderReport
from extract.settings import Settings


def split(assets: list[str], size: int) -> list[list[str]]:
    """`assets` in order, `size` to a batch (the last one shorter)."""
    return [assets[start : start + size] for start in range(0, len(assets), max(1, size))]


def state_changes(before: dict, after: dict) -> dict:
    """What `after` adds to `before`: new or changed values, nested dicts by key, lists by their
    new items (the lists in our sources' state only grow: a backfill's finished assets)."""
    changes: dict = {}
    for key, value in after.items():
        old = before.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            nested = state_changes(old, value)
            if nested:
                changes[key] = nested
        elif isinstance(value, list) and isinstance(old, list):
            added = [item for item in value if item not in old]
            if added:
                changes[key] = added
        elif key not in before or value != old:
            changes[key] = copy.deepcopy(value)
    return changes


def apply_changes(state: dict, changes: dict) -> None:
    """Merge `changes` (from `state_changes`) into `state` in place."""
    for key, value in changes.items():
        current = state.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            apply_changes(current, value)
        elif isinstance(value, list) and isinstance(current, list):
            current.extend(item for item in value if item not in current)
        else:
            state[key] = copy.deepcopy(value)


@dataclass
class BatchResult:
    report: ProviderReport
    # The batch's changes to the pipeline state's `sources` section (`state_changes`).
    changes: dict = field(default_factory=dict)


@contextlib.contextmanager
def fresh_working_dir(provider: str, coordination: Coordination) -> Iterator[Coordination]:
    """`coordination` with a new temporary dlt working directory, removed after the block."""
    with tempfile.TemporaryDirectory(prefix=f"market-elt-{provider}-") as working_dir:
        yield replace(coordination, working_dir=Path(working_dir))


def synced_pipeline(provider: str, settings: Settings, coordination: Coordination):
    """The provider's pipeline in `coordination`'s working directory, its state and schemas
    synced from the warehouse."""
    pipeline = pipeline_for(provider, settings, coordination.working_dir)
    with holding_warehouse(settings, coordination.writer_for(settings)):
        pipeline.sync_destination()
    return pipeline


def run_batch(
    provider: str,
    settings: Settings,
    coordination: Coordination,
    run: Callable[[Coordination], ProviderReport],
) -> BatchResult:
    """`run` (extract_provider or backfill_provider of the batch's assets, given the coordination
    to use) in a fresh working directory; returns its report and the state it added."""
    with fresh_working_dir(provider, coordination) as coordination:
        before = copy.deepcopy(synced_pipeline(provider, settings, coordination).state.get("sources", {}))
        report = run(coordination)
        after = pipeline_for(provider, settings, coordination.working_dir).state.get("sources", {})
    return BatchResult(report, state_changes(before, after))


def commit_changes(provider: str, settings: Settings, changes: list[dict], coordination: Coordination) -> None:
    """Merge batches' state changes into the provider's state (synced from the warehouse into a
    fresh working directory) and commit it with a load of its own; nothing when nothing changed."""
    changes = [change for change in changes if change]
    if not changes:
        return
    with fresh_working_dir(provider, coordination) as coordination:
        pipeline = synced_pipeline(provider, settings, coordination)
        with pipeline.managed_state(extract_state=True) as state:
            sources = state.setdefault("sources", {})
            for change in changes:
                apply_changes(sources, change)
        if pipeline.list_extracted_load_packages():
            pipeline.normalize()
            with holding_warehouse(settings, coordination.writer_for(settings)):
                pipeline.load()
