"""Calls per provider per day and per month, counted where every run can see them.

Day and month quotas (Alpha Vantage's 25 requests a day on a free key, CoinGecko's monthly call
credits) are spent by every run of the day: the scheduled one, a manual rerun, a backfill, a
Prefect retry. Counted in one process they would each start from zero and overshoot. So the
count lives in a small table: a SQLite file beside dlt's pipeline state for the DuckDB
warehouse (SQLite locks the file between processes), the `ops.call_ledger` table of the
Postgres warehouse, where runs on several machines share it. `MemoryLedger` counts in-process
(tests and benchmarks).

An account is a provider at a base URL: calls to the offline emulator never spend a real quota.
Periods are UTC days and UTC calendar months.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

PERIODS = ("day", "month")
# market-elt's advisory lock for creating the ledger (the warehouse lock is 7_203_501).
DDL_ADVISORY_KEY = 7_203_502

CREATE_TABLE = """
create table if not exists {table} (
    account text not null,
    period text not null,
    period_start text not null,
    calls integer not null,
    exhausted boolean not null,
    primary key (account, period, period_start)
)
"""


class BudgetExhaustedError(RuntimeError):
    """The provider's calls for this period are used up; the remaining assets wait for the next one."""


def account_name(provider: str, base_url: str) -> str:
    """`alpha_vantage@www.alphavantage.co`: the quota a provider's calls to this host spend."""
    return f"{provider}@{urlsplit(base_url).netloc or base_url}"


def period_starts(now: dt.datetime) -> dict[str, str]:
    now = now.astimezone(dt.UTC)
    return {"day": now.date().isoformat(), "month": now.strftime("%Y-%m")}


class Ledger:
    """`take` one call from an account's quotas or raise BudgetExhaustedError; `exhaust` a
    period when the provider says it is spent; `usage` for the run report."""

    def take(self, account: str, limits: Mapping[str, int | None], now: dt.datetime) -> None:
        raise NotImplementedError

    def exhaust(self, account: str, period: str, now: dt.datetime) -> None:
        raise NotImplementedError

    def usage(self, account: str, now: dt.datetime) -> dict[str, tuple[int, bool]]:
        """{period: (calls, exhausted)} for the current day and month."""
        raise NotImplementedError


def _refusal(account: str, period: str, limit: int | None, exhausted: bool) -> BudgetExhaustedError:
    provider = account.split("@", 1)[0]
    if exhausted:
        return BudgetExhaustedError(f"{provider}: the provider reported this {period}'s calls used up")
    return BudgetExhaustedError(f"{provider}: {period} budget of {limit} calls exhausted")


class MemoryLedger(Ledger):
    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, str], list] = {}
        self._lock = threading.Lock()

    def _row(self, account: str, period: str, start: str) -> list:
        return self._counts.setdefault((account, period, start), [0, False])

    def take(self, account: str, limits: Mapping[str, int | None], now: dt.datetime) -> None:
        starts = period_starts(now)
        with self._lock:
            rows = {period: self._row(account, period, starts[period]) for period in PERIODS}
            for period, (calls, exhausted) in rows.items():
                limit = limits.get(period)
                if exhausted or (limit is not None and calls >= limit):
                    raise _refusal(account, period, limit, exhausted)
            for row in rows.values():
                row[0] += 1

    def exhaust(self, account: str, period: str, now: dt.datetime) -> None:
        with self._lock:
            self._row(account, period, period_starts(now)[period])[1] = True

    def usage(self, account: str, now: dt.datetime) -> dict[str, tuple[int, bool]]:
        starts = period_starts(now)
        with self._lock:
            return {period: tuple(self._row(account, period, starts[period])) for period in PERIODS}


class SqlLedger(Ledger):
    """The ledger in a database table, one short transaction per call. `connect` opens a DB-API
    connection (sqlite3 or psycopg2); `placeholder` is its parameter style; `setup` are the
    statements that create the table, run in one transaction on each new connection."""

    def __init__(
        self, connect: Callable[[], object], table: str, placeholder: str, lock_rows: bool, setup: list[str]
    ) -> None:
        self._connect, self._table, self._p, self._lock_rows = connect, table, placeholder, lock_rows
        self._setup = setup
        self._lock = threading.Lock()
        self._connection = None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[object]:
        with self._lock:
            if self._connection is None:
                self._connection = self._connect()
                with contextlib.closing(self._connection.cursor()) as cursor:
                    for statement in self._setup:
                        cursor.execute(statement)
                self._connection.commit()
            cursor = self._connection.cursor()
            try:
                if not self._lock_rows:  # SQLite: take the file's write lock before reading
                    cursor.execute("begin immediate")
                yield cursor
                self._connection.commit()
            except BaseException:
                self._connection.rollback()
                raise
            finally:
                cursor.close()

    def _rows(self, cursor, account: str, now: dt.datetime) -> dict[str, tuple[int, bool]]:
        p, rows = self._p, {}
        for period, start in period_starts(now).items():
            cursor.execute(
                f"insert into {self._table} values ({p}, {p}, {p}, 0, false) on conflict do nothing",
                (account, period, start),
            )
            cursor.execute(
                f"select calls, exhausted from {self._table} "
                f"where account = {p} and period = {p} and period_start = {p}"
                + (" for update" if self._lock_rows else ""),
                (account, period, start),
            )
            calls, exhausted = cursor.fetchone()
            rows[period] = (int(calls), bool(exhausted))
        return rows

    def take(self, account: str, limits: Mapping[str, int | None], now: dt.datetime) -> None:
        with self._transaction() as cursor:
            for period, (calls, exhausted) in self._rows(cursor, account, now).items():
                limit = limits.get(period)
                if exhausted or (limit is not None and calls >= limit):
                    raise _refusal(account, period, limit, exhausted)
            p = self._p
            for period, start in period_starts(now).items():
                cursor.execute(
                    f"update {self._table} set calls = calls + 1 where account = {p} and period = {p} "
                    f"and period_start = {p}",
                    (account, period, start),
                )

    def exhaust(self, account: str, period: str, now: dt.datetime) -> None:
        with self._transaction() as cursor:
            self._rows(cursor, account, now)
            p = self._p
            cursor.execute(
                f"update {self._table} set exhausted = true where account = {p} and period = {p} "
                f"and period_start = {p}",
                (account, period, period_starts(now)[period]),
            )

    def usage(self, account: str, now: dt.datetime) -> dict[str, tuple[int, bool]]:
        with self._transaction() as cursor:
            return self._rows(cursor, account, now)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


def sqlite_ledger(path: Path) -> SqlLedger:
    """The ledger of a DuckDB warehouse: a SQLite file, safe to share between processes."""
    path.parent.mkdir(parents=True, exist_ok=True)

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        connection.execute("pragma journal_mode = wal")
        return _AutocommitAware(connection)

    return SqlLedger(connect, "call_ledger", "?", lock_rows=False, setup=[CREATE_TABLE.format(table="call_ledger")])


class _AutocommitAware:
    """sqlite3 in autocommit mode (transactions opened explicitly with `begin immediate`),
    with DB-API commit/rollback that end them."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def cursor(self):
        return self._connection.cursor()

    def commit(self) -> None:
        if self._connection.in_transaction:
            self._connection.execute("commit")

    def rollback(self) -> None:
        if self._connection.in_transaction:
            self._connection.execute("rollback")

    def close(self) -> None:
        self._connection.close()


def postgres_ledger(connect: Callable[[], object]) -> SqlLedger:
    """The ledger of a Postgres warehouse: `ops.call_ledger`, row-locked per call. Its schema and
    table are created under a transaction-level advisory lock: Postgres' `if not exists` is no
    guard against another session creating the same object at the same moment (workers of one
    run starting together fail with a duplicate pg_type key)."""
    setup = [
        f"select pg_advisory_xact_lock({DDL_ADVISORY_KEY})",
        "create schema if not exists ops",
        CREATE_TABLE.format(table="ops.call_ledger"),
    ]
    return SqlLedger(connect, "ops.call_ledger", "%s", lock_rows=True, setup=setup)
