"""Prefect's API for a CLI run, started while the CLI imports the flows.

Without PREFECT_API_URL, a flow run starts Prefect's temporary server (uvicorn serving
`prefect.server.api.server:create_app` in a subprocess) and waits for it before its first step:
about 4 s here, its own imports and database check. The CLI's imports (dbt, dlt, Prefect's
client) take about as long and do not need it. So `start()`, the CLI's first step, launches
that same app in a subprocess the way Prefect does (the UI off, marked ephemeral), on the
second core, before those imports, and `serving()` waits for its health
check and points the flow run at it (PREFECT_API_URL for the run); it stops at exit. Starting
it through Prefect's own SubprocessASGIServer would import the server's modules (FastAPI,
SQLAlchemy: about 4 s) into the CLI's process. With PREFECT_API_URL set (a real
server) nothing is started.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

_server: subprocess.Popen | None = None
_url: str | None = None


def start() -> None:
    """Launch the server, unless PREFECT_API_URL names one. Imports nothing of Prefect: the
    server process loads Prefect's settings (environment, profile) itself."""
    global _server, _url
    if _server is not None or os.environ.get("PREFECT_API_URL") or _prefect_has_a_server():
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app_dir = Path(importlib.util.find_spec("prefect").origin).parents[1]
    environment = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1"}
    environment["PREFECT__SERVER_FINAL"] = "1"
    command = [
        sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir),
        "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "error", "--lifespan", "on",
    ]  # fmt: skip
    _server = subprocess.Popen(command, env=environment)
    _url = f"http://127.0.0.1:{port}/api"
    # Stopped at exit, after Prefect's own exit handlers (registered later, run first) have sent
    # the run's last logs and events to it.
    atexit.register(_stop)


def _stop() -> None:
    if _server is not None and _server.poll() is None:
        _server.terminate()
        _server.wait(timeout=30)


@contextlib.contextmanager
def serving() -> Iterator[None]:
    """The flow runs inside: against the server `start()` launched, once it answers (else
    Prefect starts its own, as without this module)."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_EPHEMERAL_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    if _server is not None and (PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value()):
        _stop()  # a Prefect profile names a server (or forbids a temporary one): the run uses that
    if _server is None or _server.poll() is not None:
        yield
        return

    deadline = time.monotonic() + PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
    while not _healthy() and _server.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not _healthy():
        yield
        return
    with temporary_settings(updates={PREFECT_API_URL: _url}):
        yield


def _prefect_has_a_server() -> bool:
    """In a process that imported Prefect already (a test harness, an embedding program), its
    settings say whether a server is set; importing them only to ask would cost a second."""
    if "prefect.settings" not in sys.modules:
        return False
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


def _healthy() -> bool:
    try:
        with urllib.request.urlopen(f"{_url}/health", timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False
