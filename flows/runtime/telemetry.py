"""Telemetry off: dlt, dbt and Prefect must never reach the network (README, "Configuration").
A module of its own, importing nothing, so the CLI sets it before anything else starts (Prefect's
server is started before the flows' modules load: flows/runtime/prefect_api.py)."""

from __future__ import annotations

import os

QUIET_ENVIRONMENT = {
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_UI_ENABLED": "false",
}


def quiet_environment() -> None:
    """Turn telemetry off for dlt, dbt and Prefect unless the user set these already."""
    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
