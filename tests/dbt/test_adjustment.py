"""Adjusted equity bars stay bit for bit the same when a session without a corporate action is
added: a rebuild (a restated asset, `--full-refresh`) would otherwise rewrite every dividend
payer's history, and daily_features would recompute it in full. On DuckDB and Postgres."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from flows.runtime.dbt import invoke_dbt
from tests.dbt.features_data import Warehouse
from tests.workdirs import project_copy

SYMBOLS = 24
ENGINES = [pytest.param("duckdb", id="duckdb"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]
RAW_COLUMNS = [
    "symbol", "date", "function", "_1_open", "_2_high", "_3_low", "_4_close", "_5_adjusted_close",
    "_5_volume", "_6_volume", "_7_dividend_amount", "_8_split_coefficient", "_dlt_load_id",
]  # fmt: skip


@pytest.fixture(params=ENGINES)
def warehouse(request, tmp_path) -> Warehouse:
    """A warehouse whose universe is the generated equities S00..S23 (a copy of the project)."""
    fixture = "postgres_settings" if request.param == "postgres" else "duckdb_settings"
    project = project_copy()
    (project / "seeds" / "assets.csv").write_text(
        "asset_id,symbol,name,asset_type,coingecko_id,alpha_vantage_symbol,is_active\n"
        + "".join(f"{k + 1},S{k:02d},S{k:02d},equity,,S{k:02d},true\n" for k in range(SYMBOLS))
    )
    settings = request.getfixturevalue(fixture).with_overrides(dbt_project_dir=project)
    return Warehouse(settings, tmp_path)


def _raw_rows(symbol: str, n: int, seed: int) -> list[tuple]:
    """A 2-decimal random walk with a dividend every 63 sessions and a 2:1 split at session 250."""
    rng = np.random.default_rng(seed)
    close = np.round(50 * np.exp(np.cumsum(rng.normal(0, 0.02, n))), 2)
    start = dt.date(2020, 1, 1)
    rows = []
    for i in range(n):
        dividend = round(float(rng.uniform(0.1, 0.9)), 2) if i % 63 == 40 else 0.0
        split = 2.0 if i == 250 else 1.0
        rows.append((
            symbol, (start + dt.timedelta(days=i)).isoformat(), "TIME_SERIES_DAILY_ADJUSTED",
            f"{close[i] * 0.99:.4f}", f"{close[i] * 1.02:.4f}", f"{close[i] * 0.97:.4f}", f"{close[i]:.4f}",
            f"{close[i]:.4f}", None, str(1000 + i), f"{dividend:.4f}", f"{split:.4f}", f"load-{i}",
        ))  # fmt: skip
    return rows


def _adjusted(warehouse: Warehouse) -> list[tuple]:
    """Every session adjusted by a full build (a daily build recomputes only the new days)."""
    build = ["build", "--select", "+int_equity_bars_adjusted", "--full-refresh"]
    invoke_dbt([*build, "--exclude-resource-type", "test", "unit_test"], warehouse.settings)
    return warehouse.execute(
        "select alpha_vantage_symbol, bar_date, open, high, low, close, volume "
        "from intermediate.int_equity_bars_adjusted "
        "order by alpha_vantage_symbol, bar_date",
        fetch=True,
    )[1]


def test_a_session_without_corporate_actions_leaves_the_adjusted_history_unchanged(warehouse):
    # 24 symbols of 3,650 sessions: summed over all later sessions, a few of them drifted by an ulp
    n = 3650
    symbols = [_raw_rows(f"S{k:02d}", n, seed=k) for k in range(SYMBOLS)]
    columns = ", ".join(f"{name} {'date' if name == 'date' else 'varchar(64)'}" for name in RAW_COLUMNS)
    warehouse.execute("create schema if not exists raw")
    warehouse.execute(f"create table raw.alpha_vantage_daily ({columns})")

    def insert(batch: list[tuple]) -> None:
        values = ", ".join("(" + ", ".join("null" if v is None else f"'{v}'" for v in row) + ")" for row in batch)
        warehouse.execute(f"insert into raw.alpha_vantage_daily ({', '.join(RAW_COLUMNS)}) values {values}")

    insert([row for rows in symbols for row in rows[: n - 1]])
    before = _adjusted(warehouse)
    insert([rows[n - 1] for rows in symbols])  # an ordinary session: no dividend, no split
    after = _adjusted(warehouse)

    assert len(before) == SYMBOLS * (n - 1) and len(after) == SYMBOLS * n
    assert [row for row in after if row[1] != after[n - 1][1]] == before, "the adjusted history changed"
    # and the adjustment is real: the split halves earlier prices, dividends scale them down
    assert after[0][5] < float(symbols[0][0][7]) / 2
