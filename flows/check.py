"""The check flow: every dbt test over every row of the last build, on demand (`market-elt
check --all`) and weekly (prefect.yaml). A daily run's gates read only what the day changed
(dbt_project/macros/changes/change_scope.sql); this re-reads everything, so a problem that only
a whole history shows (or one a changed test now finds in old rows) surfaces within a week.
Nothing is published: the failures are reported per asset, as the gate names them, and the
run fails when an error-severity test failed.
"""

from __future__ import annotations

import datetime as dt
import json

from prefect import flow, runtime

from extract.settings import Settings
from flows.runtime.summary import RunSummary
from flows.runtime.warehouse_lock import warehouse_lock
from flows.tasks import dbt, finish, gate


@flow(name="market-elt-check", log_prints=True)
def check(check_all: bool = True) -> RunSummary:
    """dbt test on the audit schema (the last build), every row with `check_all`, else the
    change-scoped rows a daily run reads; the gate's verdict reported, nothing published."""
    summary, started = RunSummary(), dt.datetime.now(dt.UTC)
    settings = Settings.from_env()
    with warehouse_lock(settings, f"flow run {runtime.flow_run.name} (check)", settings.lock_timeout, print):
        command = ["test", "--vars", json.dumps({"check_all": check_all})]
        tested = dbt(command, settings, "test", tests_decide=True, return_state=True)
        if not tested.is_completed():
            summary.errors.append(str(tested.message))
        else:
            summary.dbt.append(tested.result())
            verdict = gate(settings, tested.result())
            summary.errors.extend(f"check: {reason}" for reason in verdict.blocking)
            for asset_id, (symbol, findings) in sorted(verdict.quarantined.items(), key=lambda item: item[1][0]):
                summary.errors.append(f"check: {symbol} (asset {asset_id}): {' | '.join(f.line() for f in findings)}")
            summary.warnings.extend(f"check warning: {finding.line()}" for finding in verdict.warnings)
        return finish(settings, summary, "check", started)
