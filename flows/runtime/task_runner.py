"""Where a flow's extraction tasks run: MARKET_ELT_TASK_RUNNER (extract/settings.py).

- `thread` (default): Prefect's ThreadPoolTaskRunner, threads of the flow's process. Budgets
  are in-process; the warehouse's writer lock is a thread lock.
- `dask`: prefect-dask's DaskTaskRunner on the scheduler at DASK_SCHEDULER_ADDRESS, or else on a
  LocalCluster of worker processes (one thread each; as many as dask.distributed's LocalCluster
  starts for this machine's cores) started for the run and closed with it. Call windows are
  shared through the scheduler's semaphores and the writer lock is a `distributed.Lock`
  (flows/runtime/dask_shared.py).

Only extraction fans out: dbt and the publication run in the flow's process, which holds the
warehouse lock (flows/runtime/warehouse_lock.py).
"""

from __future__ import annotations

import copyreg
import importlib
import sys

from prefect import Flow
from prefect.client.orchestration import get_client
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from extract.pipeline import Coordination
from extract.registry import PROVIDERS
from extract.settings import Settings

# Worker processes of the LocalCluster, one thread each: dlt extracts hold the GIL.
LOCAL_CLUSTER = {"processes": True, "threads_per_worker": 1, "dashboard_address": None}


def task_runner(settings: Settings) -> TaskRunner:
    """A new (not started) task runner for the configured kind; enter it to start it."""
    if settings.task_runner != "dask":
        return ThreadPoolTaskRunner(max_workers=len(PROVIDERS))
    from prefect_dask import DaskTaskRunner

    copyreg.pickle(Flow, _flow_by_reference)
    if settings.dask_scheduler_address:
        return DaskTaskRunner(address=settings.dask_scheduler_address)
    # The workers report their task runs to the flow's Prefect API, also the temporary server a
    # run without PREFECT_API_URL starts (they would each start one of their own).
    with get_client(sync_client=True) as client:
        api_url = str(client.api_url).rstrip("/")
    cluster = LOCAL_CLUSTER | {"env": {"PREFECT_API_URL": api_url}}
    return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs=cluster)


def _flow_by_reference(flow: Flow):
    """Pickle a module-level flow as its import path. prefect-dask sends the flow with every
    task's context; by default its function goes by value (the module's name is bound to the
    Flow, not the function), and so does every global it reads: the provider registry, with
    classes dlt creates while sources run, which a worker that has not run them cannot load,
    and ~80 KB a task."""
    module = sys.modules.get(flow.fn.__module__)
    if getattr(module, flow.fn.__name__, None) is flow:
        return _import_flow, (flow.fn.__module__, flow.fn.__name__)
    return object.__reduce_ex__(flow, 2)


def _import_flow(module: str, name: str) -> Flow:
    return getattr(importlib.import_module(module), name)


def coordination(settings: Settings) -> Coordination:
    """What extractions under the configured runner share: in-process locks and budgets for
    threads; the scheduler's lock and semaphores on Dask (for tasks on its workers)."""
    if settings.task_runner != "dask":
        return Coordination()
    from flows.runtime.dask_shared import shared_slots, writer_lock

    return Coordination(writer=writer_lock(settings), slots=shared_slots)


def worker_threads(runner) -> int:
    """How many tasks a running DaskTaskRunner's cluster runs at once: its workers' threads now."""
    return max(1, sum(runner.client.nthreads().values()))
