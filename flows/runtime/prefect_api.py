"""Prefect's temporary API started while the CLI imports the flows.

Without PREFECT_API_URL, a flow run starts Prefect's temporary server in a subprocess and waits
for it (about 4 s here: its own imports and database check) before the run's first step. The
CLI's own imports (dbt, dlt, Prefect: about as long) happen first and do not need it, so
`start_in_background()` starts that same server (Prefect's SubprocessASGIServer, the instance
the first flow run then finds running) on a thread while they happen, and `wait()` joins it
before the flow is called. With PREFECT_API_URL set (a real server) nothing is started.
"""

from __future__ import annotations

import logging
import threading

_starting: threading.Thread | None = None


def start_in_background() -> None:
    global _starting
    if _starting is not None:
        return
    _starting = threading.Thread(target=_start, name="prefect-api", daemon=True)
    _starting.start()


def wait() -> None:
    """Block until the server started by `start_in_background` answers. A failure to start is
    not raised here: the flow run then starts it itself, and reports why it cannot."""
    if _starting is not None:
        _starting.join()


def _start() -> None:
    try:
        from prefect.settings import get_current_settings

        settings = get_current_settings()
        if settings.api.url or not settings.server.ephemeral.enabled:
            return
        from prefect.server.api.server import SubprocessASGIServer

        SubprocessASGIServer().start()
    except Exception:  # the flow run starts the server itself, and says why it cannot
        logging.getLogger("market_elt").debug("Prefect's API did not start in the background", exc_info=True)
