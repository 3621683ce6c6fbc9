"""One run at a time per warehouse: a schedule overlapping a manual run waits, bounded, or refuses.

DuckDB lets one process write a file: a second run that opened it half-way through the first
would fail in the middle of its load. Postgres would let both in, and two builds of the same
audit tables would interleave. So a run takes the warehouse's lock before touching it:
- DuckDB: an exclusive `flock` on `<warehouse>.lock` beside the file, which also says who
  holds it (released by the kernel if the process dies);
- Postgres: a session advisory lock on a connection held for the run; the holder is named by
  the connection's application_name, which a waiter reads from pg_stat_activity.
The waiter says once which run holds the lock, then waits up to `timeout` seconds
(`MARKET_ELT_LOCK_TIMEOUT`, 0 refuses at once) before giving up with WarehouseBusyError.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator

from extract.settings import Settings

POLL_SECONDS = 0.5
ADVISORY_KEY = 7_203_501  # market-elt's warehouse lock among the database's advisory locks
log = logging.getLogger(__name__)


class WarehouseBusyError(RuntimeError):
    """Another run holds the warehouse and did not let go in time."""


def describe(holder: str) -> str:
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return f"{holder} (pid {os.getpid()}, since {started})"


@contextlib.contextmanager
def warehouse_lock(settings: Settings, holder: str, timeout: float, say: Callable[[str], None] = log.warning):
    """Hold the warehouse for the block; `holder` names this run to whoever waits."""
    lock = _postgres_lock if settings.destination == "postgres" else _duckdb_lock
    with lock(settings, describe(holder), timeout, say):
        yield


def _wait(try_lock: Callable[[], bool], held_by: Callable[[], str], timeout: float, say, where: str) -> None:
    deadline = time.monotonic() + timeout
    if try_lock():
        return
    holder = held_by()
    if timeout <= 0:
        raise WarehouseBusyError(f"{where} is in use by {holder}; not waiting (MARKET_ELT_LOCK_TIMEOUT=0)")
    say(f"waiting up to {timeout:.0f} s for {where}, in use by {holder}")
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        if try_lock():
            return
    raise WarehouseBusyError(f"{where} still in use by {held_by()} after {timeout:.0f} s (MARKET_ELT_LOCK_TIMEOUT)")


@contextlib.contextmanager
def _duckdb_lock(settings: Settings, holder: str, timeout: float, say) -> Iterator[None]:
    path = settings.duckdb_path.with_name(settings.duckdb_path.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:

        def try_lock() -> bool:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        def held_by() -> str:
            with open(path) as reader:
                return json.loads(reader.read() or "{}").get("holder", "another run")

        _wait(try_lock, held_by, timeout, say, f"the warehouse {settings.duckdb_path}")
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"holder": holder}))
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _postgres_lock(settings: Settings, holder: str, timeout: float, say) -> Iterator[None]:
    import psycopg2

    connection = psycopg2.connect(**settings.postgres.connect_kwargs(), application_name=f"market-elt: {holder}"[:63])
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:

            def try_lock() -> bool:
                cursor.execute("select pg_try_advisory_lock(%s)", (ADVISORY_KEY,))
                return bool(cursor.fetchone()[0])

            def held_by() -> str:
                cursor.execute(
                    "select a.application_name from pg_locks as l join pg_stat_activity as a on a.pid = l.pid "
                    "where l.locktype = 'advisory' and l.objid = %s and l.granted and a.pid <> pg_backend_pid()",
                    (ADVISORY_KEY,),
                )
                row = cursor.fetchone()
                return row[0] if row and row[0] else "another session"

            where = f"the warehouse {settings.postgres.dbname} on {settings.postgres.host}"
            _wait(try_lock, held_by, timeout, say, where)
            yield
    finally:
        connection.close()  # the session lock goes with the session
