"""A daily run rebuilds only what changed (int_bar_recomputes_planned and the models kept by it),
and what it publishes equals a full rebuild bit for bit, on DuckDB and Postgres.

The day is played on a real extract: every provider's last day is held back from the first
build and comes back in a new load, as the next day's extract brings it (for CoinGecko a day
of hourly prints: the day before it becomes complete only then), with a revised older bar
(IBM) and a dividend announced for an earlier session (MSFT: an adjusted history rescales as a
whole). The published marts are then compared with a `--full-refresh` of the same raw data."""

from __future__ import annotations

import datetime as dt

import pytest

from extract.registry import PROVIDERS
from extract.settings import Settings
from flows.daily import daily
from flows.runtime.warehouse import columns_and_rows, execute, query
from tests.flows.loads import reload
from tests.flows.targets import TARGETS, use_warehouse
from tests.flows.test_alpaca import _universe_with_an_alpaca_only_equity
from tests.flows.test_gate import _times

pytestmark = pytest.mark.slow

# Each raw table a daily extract appends to: its series key (None: one series) and its day.
HELD_BACK = {
    "alpha_vantage_daily": ("symbol", "date"),
    "coingecko_market_chart": ("coin_id", "point_date"),
    "coingecko_markets": ("id", "snapshot_date"),
    "fear_greed_index": (None, "index_date"),
    "alpaca_daily_bars": ("symbol", "bar_date"),
}
# The ones whose recent days a daily extract fetches again (the lag, here in calendar days back
# from the newest): in the same new load, values unchanged.
REFETCHED_DAYS = {"alpha_vantage_daily": 5, "alpaca_daily_bars": 5}
MARTS = (
    "assets",
    "daily_bars",
    "weekly_bars",
    "monthly_bars",
    "daily_features",
    "observations",
    "observations_wide",
    "daily_market_snapshot",
    "bar_reconciliation",
    "hourly_bars",
    "bars_4h",
    "daily_session_features",
    "trading_calendar",
)


def _published(settings: Settings) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every published mart's columns and rows, sorted (NULLs as text, so the sort is total)."""
    marts = {}
    for mart in MARTS:
        columns, rows = columns_and_rows(settings, f"select * from {mart}")
        marts[mart] = (columns, sorted(rows, key=lambda row: tuple((value is None, str(value)) for value in row)))
    return marts


def _differences(incremental: tuple[list[str], list[tuple]], rebuilt: tuple[list[str], list[tuple]]) -> str:
    """The first rows that differ, by column, for the assertion's message."""
    columns, rows = incremental
    only_incremental = sorted(set(rows) - set(rebuilt[1]), key=str)[:3]
    only_rebuilt = sorted(set(rebuilt[1]) - set(rows), key=str)[:3]
    lines = [f"{len(set(rows) ^ set(rebuilt[1]))} rows differ"]
    for left, right in zip(only_incremental, only_rebuilt, strict=False):
        lines.append(
            ", ".join(f"{name}: {a!r} != {b!r}" for name, a, b in zip(columns, left, right, strict=True) if a != b)
        )
    return "; ".join(lines)


def _last_day_of_each_series(table: str) -> str:
    key, day = HELD_BACK[table]
    if key is None:
        return f"{day} = (select max({day}) from raw.{table})"
    return f"({key}, {day}) in (select {key}, max({day}) from raw.{table} group by {key})"


def _hold_back_last_days(settings: Settings) -> None:
    """Each series' last day moved aside, as if the next day's extract had not run yet. A table
    holding a single day (the markets snapshot of a first run) gets a copy of it as the day
    before, so the first build has one."""
    for table, (_, day) in HELD_BACK.items():
        where = _last_day_of_each_series(table)
        execute(
            settings,
            [
                f"create table raw.{table}__held as select * from raw.{table} where {where}",
                f"delete from raw.{table} where {where}",
            ],
        )
        if query(settings, f"select count(*) from raw.{table}")[0][0] == 0:
            execute(
                settings,
                [
                    f"create table raw.{table}__prior as select * from raw.{table}__held",
                    f"update raw.{table}__prior set {day} = {day} - 1, _dlt_id = _dlt_id || '-prior'",
                    f"insert into raw.{table} select * from raw.{table}__prior",
                    f"drop table raw.{table}__prior",
                ],
            )
    return {
        table: query(settings, f"select max({day}) from raw.{table}")[0][0] for table, (_, day) in HELD_BACK.items()
    }


def _next_day(settings: Settings) -> tuple[dt.date, dt.date]:
    """The held-back days back in a new load (with the lag's re-fetched days), IBM's bar five
    sessions back revised, and a dividend on one of MSFT's earlier sessions; returns (IBM's
    revised day, MSFT's ex-date)."""
    ibm = sorted(row[0] for row in query(settings, "select date from raw.alpha_vantage_daily where symbol = 'IBM'"))
    msft = sorted(row[0] for row in query(settings, "select date from raw.alpha_vantage_daily where symbol = 'MSFT'"))
    revised, ex_date = ibm[-6], msft[-20]
    rows = {}
    for table, (_, day) in HELD_BACK.items():
        refetched = REFETCHED_DAYS.get(table)
        rows[table] = f"_dlt_id in (select _dlt_id from raw.{table}__held)" + (
            f" or {day} >= (select max({day}) from raw.{table}) - {refetched}" if refetched else ""
        )
    rows["alpha_vantage_daily"] += f" or (symbol = 'IBM' and date = '{revised}')"
    rows["alpha_vantage_dividends"] = "_dlt_id = 'test-dividend'"
    reload(
        settings,
        [
            *[f"insert into raw.{table} select * from raw.{table}__held" for table in HELD_BACK],
            f"update raw.alpha_vantage_daily set _4_close = {_times(settings, '_4_close', 1.01)}, "
            f"_2_high = {_times(settings, '_2_high', 1.01)} where symbol = 'IBM' and date = '{revised}'",
            "insert into raw.alpha_vantage_dividends (amount, ex_dividend_date, symbol, _dlt_load_id, _dlt_id) "
            f"values ('0.31', '{ex_date}', 'MSFT', '', 'test-dividend')",
        ],
        rows,
    )
    execute(settings, [f"drop table raw.{table}__held" for table in HELD_BACK])
    return revised, ex_date


@pytest.mark.parametrize("target", TARGETS)
def test_a_daily_build_recomputes_what_changed_and_equals_a_full_rebuild(target, live_env, monkeypatch, request):
    use_warehouse(target, monkeypatch, request)
    for name, value in live_env.environ(alpaca_plan="free").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ALPACA_CALLS_PER_MINUTE", "unlimited")
    monkeypatch.setenv("MARKET_ELT_DBT_PROJECT_DIR", str(_universe_with_an_alpaca_only_equity()))
    assert daily(providers=list(PROVIDERS), transform=False).ok
    settings = Settings.from_env()
    _hold_back_last_days(settings)
    assert daily(providers=[]).ok
    ids = dict(query(settings, "select symbol, asset_id from assets"))
    first_bars = dict(query(settings, "select asset_id, max(date) from daily_bars group by asset_id"))

    revised, ex_date = _next_day(settings)
    assert daily(providers=[]).ok
    planned = query(
        settings, "select asset_id, recompute_from, in_full, reason from intermediate.int_bar_recomputes_planned"
    )
    plans = {asset: (recompute_from, in_full) for asset, recompute_from, in_full, _ in planned}
    reasons = {asset: reason for asset, *_, reason in planned}
    assert plans[ids["MSFT"]] == (dt.date(1, 1, 1), True), reasons[ids["MSFT"]]
    assert reasons[ids["MSFT"]] == "corporate actions changed"
    assert plans[ids["IBM"]] == (revised, False), f"IBM from its revised session on, not: {reasons[ids['IBM']]}"
    for (symbol,) in query(settings, "select symbol from assets where asset_type = 'equity' and is_active"):
        if symbol in ("MSFT", "IBM") or ids[symbol] not in plans:
            continue
        recompute_from, in_full = plans[ids[symbol]]
        assert not in_full and recompute_from >= first_bars[ids[symbol]] - dt.timedelta(days=7), symbol
    for (symbol,) in query(settings, "select symbol from assets where asset_type = 'crypto' and is_active"):
        # Only the held-back day's prints are new, but the day before it was still open at the
        # first build: its bar is built now (the day after the last stored bar).
        assert plans[ids[symbol]] == (first_bars[ids[symbol]] + dt.timedelta(days=1), False), symbol
    rewritten = query(
        settings,
        "select count(*), count(distinct asset_id) from intermediate.int_daily_bars "
        "where computed_at = (select max(computed_at) from intermediate.int_daily_bars)",
    )[0]
    total = query(settings, "select count(*) from intermediate.int_daily_bars")[0][0]
    msft_bars = query(settings, f"select count(*) from daily_bars where asset_id = {ids['MSFT']}")[0][0]
    assert msft_bars <= rewritten[0] < msft_bars + 3 * len(ids), (rewritten, msft_bars, total)

    incremental = _published(settings)
    assert daily(providers=[], full_refresh=True).ok
    rebuilt = _published(settings)
    for mart in MARTS:
        assert incremental[mart] == rebuilt[mart], f"{mart}: {_differences(incremental[mart], rebuilt[mart])}"
    assert any(row[1] == ex_date for row in incremental["daily_bars"][1]), "the ex-date session is published"
