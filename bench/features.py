"""Benchmark daily_features: dbt full build on DuckDB and Postgres, an incremental one-day run,
and two baselines a user would otherwise write, both reading from and writing back to the same
DuckDB: the naive one (a pandas DataFrame per asset around TA-Lib) and the strong one a careful
engineer writes (Arrow in and out, TA-Lib on each asset's slice, numpy over the whole panel),
checked to agree with each other before either ratio is reported. Also, on DuckDB, a one-day
run in which 1% of the assets are restated and so recomputed in full: an ex-dividend date
rescales an equity's whole adjusted history, and a quarterly payer has one about every 63
sessions, so an ordinary day restates about 1% of a dividend-paying universe.

    .venv/bin/python bench/features.py --quick          # ~1 minute: 100 assets x 400 days
    .venv/bin/python bench/features.py                  # 2,000 assets x 3,650 days (7.3M bars)

Every measured step runs in its own child process, so its peak memory (max RSS) is its own;
for Postgres the peak summed RSS of the server's processes is sampled too. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import measure  # noqa: E402 - shared with load.py and transform.py

FEATURE_SELECTION = ["int_feature_bars_batched+"]
STATE_TABLE = "features.int_daily_features_computed"


# ---------------------------------------------------------------- helpers run in child processes


def _quiet() -> None:
    os.environ.update(
        {"DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "RUNTIME__DLTHUB_TELEMETRY": "false"}
    )


def _marts_schema(default: str) -> str:
    import yaml

    project = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text())
    marts = (project.get("models") or {}).get("market_elt", {}).get("marts", {}) or {}
    return marts.get("+schema") or marts.get("schema") or default


# What the feature models read their bars from (ref('int_daily_bars'), dbt_project.yml's intermediate schema).
BARS_SCHEMA = "intermediate"
BARS = f"{BARS_SCHEMA}.int_daily_bars"


def _settings(duckdb_path: str, target: str):
    from extract.settings import Settings

    return Settings(duckdb_path=Path(duckdb_path), dbt_target=target)


# ---------------------------------------------------------------- the steps


def generate_panel(duckdb_path: str, assets: int, days: int) -> None:
    """A random-walk OHLCV panel in int_daily_bars and assets (half crypto, half equity)."""
    import duckdb

    schema = _marts_schema("main")
    with duckdb.connect(duckdb_path) as con:
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create schema if not exists {BARS_SCHEMA}")
        con.execute("select setseed(0.42)")
        con.execute(f"""
            create or replace table {schema}.assets as
            select cast(i as integer) as asset_id, 'S' || i as symbol, 'Asset ' || i as name,
                case when i % 2 = 0 then 'crypto' else 'equity' end as asset_type,
                cast(null as varchar) as coingecko_id, cast(null as varchar) as alpha_vantage_symbol, true as is_active
            from range(1, {assets} + 1) r(i)
        """)
        con.execute(f"""
            create or replace table {BARS} as
            with steps as (
                select a.i as asset_id, d.j as day, 0.02 * (random() + random() + random() - 1.5) as step,
                    random() as u1, random() as u2, floor(random() * 1000000) as volume
                from range(1, {assets} + 1) a(i), range({days}) d(j)
            ),
            walks as (
                select *, 100 * exp(sum(step) over (partition by asset_id order by day)) as close from steps
            )
            select cast(asset_id as integer) as asset_id,
                cast(date '2016-01-01' + cast(day as integer) as date) as date,
                close * (1 + 0.005 * (u1 - 0.5)) as open, close * (1 + 0.01 * u1) as high,
                close * (1 - 0.01 * u2) as low, close, cast(volume as double) as volume,
                close * volume as dollar_volume, 'bench' as source, false as adjusted_flag, 'none' as adjustment,
                'bench' as load_id
            from walks
            order by asset_id, date
        """)


def dbt_run(duckdb_path: str, target: str, full_refresh: bool) -> dict:
    """dbt run of the feature models, in-process as the flow runs it; dbt's own elapsed time and per model."""
    from dbt.cli.main import dbtRunner

    from flows.runtime.dbt import dbt_args

    settings = _settings(duckdb_path, target)
    os.environ["DUCKDB_PATH"], os.environ["DBT_TARGET"] = str(settings.duckdb_path), settings.dbt_target
    command = ["run", "--select", *FEATURE_SELECTION, "--quiet"]
    result = dbtRunner().invoke(dbt_args([*command, "--full-refresh"] if full_refresh else command, settings))
    if not result.success:
        raise RuntimeError(f"dbt failed: {result.exception or [r.message for r in result.result.results]}")
    return {
        "dbt_seconds": round(result.result.elapsed_time, 2),
        "models": {r.node.name: round(r.execution_time, 2) for r in result.result.results},
    }


def append_day(duckdb_path: str, target: str) -> None:
    """Every asset gets one more bar (the day after its last one)."""
    sql = f"""
        insert into {BARS}
        select asset_id, date + 1, close, close * 1.01, close * 0.99, close * 1.003, volume, close * 1.003 * volume,
            source, adjusted_flag, adjustment, 'bench-next-day'
        from {BARS}
        where (asset_id, date) in (select asset_id, max(date) from {BARS} group by asset_id)
    """
    _execute(duckdb_path, target, [sql])


def remove_appended_day(duckdb_path: str, target: str) -> None:
    """Undo append_day and its features, so the incremental run can be repeated."""
    _execute(duckdb_path, target, [
        f"delete from {STATE_TABLE} where (asset_id, date) in "
        f"(select asset_id, date from {BARS} where load_id = 'bench-next-day')",
        f"delete from {BARS} where load_id = 'bench-next-day'",
    ])  # fmt: skip


RESTATED_EVERY = 100  # every 100th asset (1%) is restated by restate_assets
RESTATED = f"asset_id % {RESTATED_EVERY} = 0"


def restate_assets(duckdb_path: str, target: str, repeat: int) -> None:
    """Scale every price of 1% of the assets, as an ex-dividend date rescales the adjusted
    history, by a factor new to each repeat (so each run sees a restatement against what it
    stored). The original bars are kept once, for restore_restated."""
    schema = _marts_schema("main" if target == "dev" else "public")
    factor = 1 - 0.01 * (repeat + 1)
    _execute(duckdb_path, target, [
        f"create table if not exists {schema}.bench_restated_originals as "
        f"select asset_id, date, open, high, low, close from {BARS} where {RESTATED}",
        f"update {BARS} set open = open * {factor}, high = high * {factor}, "
        f"low = low * {factor}, close = close * {factor} where {RESTATED}",
    ])  # fmt: skip


def restore_restated(duckdb_path: str, target: str) -> None:
    schema = _marts_schema("main" if target == "dev" else "public")
    _execute(duckdb_path, target, [
        f"update {BARS} set open = o.open, high = o.high, low = o.low, close = o.close "
        f"from {schema}.bench_restated_originals as o "
        f"where int_daily_bars.asset_id = o.asset_id and int_daily_bars.date = o.date",
    ])  # fmt: skip


def _execute(duckdb_path: str, target: str, statements: list[str]) -> None:
    if target == "dev":
        import duckdb

        with duckdb.connect(duckdb_path) as con:
            for statement in statements:
                con.execute(statement)
        return
    import psycopg2

    connection = psycopg2.connect("")
    connection.autocommit = True
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    connection.close()


def copy_panel_to_postgres(duckdb_path: str, workdir: str) -> None:
    import duckdb
    import psycopg2

    schema_duck, schema_pg = _marts_schema("main"), _marts_schema("public")
    csv_bars, csv_assets = Path(workdir) / "bars.csv", Path(workdir) / "assets.csv"
    with duckdb.connect(duckdb_path, read_only=True) as con:
        con.execute(f"copy (select * from {BARS} where load_id = 'bench') to '{csv_bars}' (header false)")
        con.execute(f"copy {schema_duck}.assets to '{csv_assets}' (header false)")
    connection = psycopg2.connect("")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"create schema if not exists {schema_pg}")
        cursor.execute(f"create schema if not exists {BARS_SCHEMA}")
        cursor.execute(f"drop table if exists {BARS} cascade")
        cursor.execute(f"drop table if exists {schema_pg}.assets cascade")
        cursor.execute(
            f"create table {BARS} (asset_id integer, date date, open double precision, "
            "high double precision, low double precision, close double precision, volume double precision, "
            "dollar_volume double precision, source text, adjusted_flag boolean, adjustment text, load_id text)"
        )
        cursor.execute(
            f"create table {schema_pg}.assets (asset_id integer, symbol text, name text, asset_type text, "
            "coingecko_id text, alpha_vantage_symbol text, is_active boolean)"
        )
        with open(csv_bars) as handle:
            cursor.copy_expert(f"copy {BARS} from stdin with (format csv)", handle)
        with open(csv_assets) as handle:
            cursor.copy_expert(f"copy {schema_pg}.assets from stdin with (format csv)", handle)
        cursor.execute(f"analyze {BARS}")
    connection.close()


def talib_pandas_baseline(duckdb_path: str) -> int:
    """What a user would write: read the bars, TA-Lib per asset plus pandas, write the table back."""
    import duckdb
    import numpy as np
    import pandas as pd
    import talib

    schema = _marts_schema("main")
    with duckdb.connect(duckdb_path) as con:
        bars = con.execute(
            f"select b.asset_id, b.date, b.high, b.low, b.close, b.volume, a.asset_type "
            f"from {BARS} b join {schema}.assets a using (asset_id) order by b.asset_id, b.date"
        ).df()
        frames = []
        for asset_id, g in bars.groupby("asset_id", sort=False):
            h, lo, c, v = (g[k].to_numpy(dtype=float) for k in ("high", "low", "close", "volume"))
            f = pd.DataFrame({"asset_id": asset_id, "date": g["date"].to_numpy()})
            for n in (20, 50, 200):
                f[f"sma_{n}"] = talib.SMA(c, n)
            f["ema_12"], f["ema_26"], f["rsi_14"] = talib.EMA(c, 12), talib.EMA(c, 26), talib.RSI(c, 14)
            f["macd"], f["macd_signal"], f["macd_hist"] = talib.MACD(c, 12, 26, 9)
            f["atr_14"] = talib.ATR(h, lo, c, 14)
            f["bb_upper"], f["bb_middle"], f["bb_lower"] = talib.BBANDS(c, 20, 2.0, 2.0, 0)
            f["roc_10"] = talib.ROC(c, 10)
            close = pd.Series(c)
            for n in (1, 5, 20, 60):
                f[f"return_{n}d"] = (close / close.shift(n) - 1).to_numpy()
            log_return = np.log(close / close.shift(1))
            f["log_return_1d"] = log_return.to_numpy()
            annual = 365.0 if g["asset_type"].iloc[0] == "crypto" else 252.0
            f["realized_vol_20"] = (log_return.rolling(20).std(ddof=1) * np.sqrt(annual)).to_numpy()
            prior = pd.Series(v).shift(1).rolling(20).mean()
            f["rvol_20"] = (pd.Series(v) / prior.where(prior != 0)).to_numpy()
            f["dollar_volume"] = c * v
            for n in (20, 50, 200):
                f[f"dist_sma_{n}"] = c / f[f"sma_{n}"] - 1
            f["sma_50_slope"] = f["sma_50"] / f["sma_50"].shift(5) - 1
            f["sma_200_slope"] = f["sma_200"] / f["sma_200"].shift(5) - 1
            bull = (c > f["sma_200"]) & (f["sma_50"] > f["sma_200"])
            bear = (c < f["sma_200"]) & (f["sma_50"] < f["sma_200"])
            f["regime"] = np.where(f["sma_200"].isna(), None, np.where(bull, "bull", np.where(bear, "bear", "neutral")))
            f["atr_pct_14"] = f["atr_14"] / c
            width = f["bb_upper"] - f["bb_lower"]
            f["bb_pct_b"] = (c - f["bb_lower"]) / width.where(width != 0)
            f["bb_width"] = width / f["bb_middle"]
            f["willr_14"], f["cci_20"] = talib.WILLR(h, lo, c, 14), talib.CCI(h, lo, c, 20)
            f["stoch_k"], f["stoch_d"] = talib.STOCH(h, lo, c, 14, 3, 0, 3, 0)
            f["mfi_14"], f["obv"], f["adx_14"] = talib.MFI(h, lo, c, v, 14), talib.OBV(c, v), talib.ADX(h, lo, c, 14)
            f["donchian_high_20"], f["donchian_low_20"] = talib.MAX(h, 20), talib.MIN(lo, 20)
            dated = pd.DataFrame({"high": h, "low": lo}, index=pd.DatetimeIndex(g["date"]))
            first = dated.index[0]
            full_year = dated.index - pd.Timedelta(days=364) >= first
            f["high_52w"] = np.where(full_year, dated["high"].rolling("365D").max().to_numpy(), np.nan)
            f["low_52w"] = np.where(full_year, dated["low"].rolling("365D").min().to_numpy(), np.nan)
            f["dist_high_52w"] = c / f["high_52w"] - 1
            f["drawdown"] = c / np.maximum.accumulate(c) - 1
            frames.append(f)
        features = pd.concat(frames, ignore_index=True)
        con.register("features_frame", features)
        con.execute("create or replace table baseline_features as select * from features_frame")
        return len(features)


def talib_numpy_baseline(duckdb_path: str) -> int:
    """What a careful engineer would write: the panel in as Arrow/numpy columns sorted by asset
    and date, TA-Lib on each asset's contiguous slice (no DataFrame per asset), everything that
    is not a TA-Lib indicator computed with numpy over the whole panel at once (shifts masked at
    asset boundaries, the 52-week calendar window by a sparse table over per-row window starts),
    and the result back into the same DuckDB as one Arrow table."""
    import duckdb
    import numpy as np
    import pyarrow as pa
    import talib

    schema = _marts_schema("main")
    with duckdb.connect(duckdb_path) as con:
        panel = con.execute(
            f"select b.asset_id, b.date, b.high, b.low, b.close, b.volume, a.asset_type = 'crypto' as crypto "
            f"from {BARS} b join {schema}.assets a using (asset_id) order by b.asset_id, b.date"
        ).fetch_arrow_table()
        asset = panel["asset_id"].to_numpy()
        days = panel["date"].cast(pa.int32()).to_numpy().astype(np.int64)
        h, lo, c, v = (panel[k].to_numpy().astype(float) for k in ("high", "low", "close", "volume"))
        crypto = panel["crypto"].to_numpy()
        rows = len(c)
        starts = np.flatnonzero(np.r_[True, asset[1:] != asset[:-1]])
        ends = np.r_[starts[1:], rows]
        position = np.arange(rows) - np.repeat(starts, ends - starts)  # row number within the asset
        out: dict[str, np.ndarray] = {}

        def per_asset(name_outputs, function, inputs, *params, **kwargs):
            """TA-Lib `function` on each asset's slice of `inputs` (a tuple of panel columns)."""
            names = [name_outputs] if isinstance(name_outputs, str) else list(name_outputs)
            arrays = [np.empty(rows) for _ in names]
            for s, e in zip(starts, ends, strict=True):
                result = function(*(x[s:e] for x in inputs), *params, **kwargs)
                for array, part in zip(arrays, result if len(names) > 1 else [result], strict=True):
                    array[s:e] = part
            out.update(zip(names, arrays, strict=True))

        def lagged(x: np.ndarray, n: int) -> np.ndarray:
            shifted = np.full(rows, np.nan)
            shifted[n:] = x[:-n]
            shifted[position < n] = np.nan
            return shifted

        for n in (20, 50, 200):
            per_asset(f"sma_{n}", talib.SMA, (c,), timeperiod=n)
        per_asset("ema_12", talib.EMA, (c,), timeperiod=12)
        per_asset("ema_26", talib.EMA, (c,), timeperiod=26)
        per_asset("rsi_14", talib.RSI, (c,), timeperiod=14)
        per_asset(("macd", "macd_signal", "macd_hist"), talib.MACD, (c,), 12, 26, 9)
        per_asset(
            "atr_14",
            talib.ATR,
            (
                h,
                lo,
                c,
            ),
            14,
        )
        per_asset(("bb_upper", "bb_middle", "bb_lower"), talib.BBANDS, (c,), 20, 2.0, 2.0, 0)
        per_asset("roc_10", talib.ROC, (c,), 10)
        for n in (1, 5, 20, 60):
            out[f"return_{n}d"] = c / lagged(c, n) - 1
        log_return = np.log(c / lagged(c, 1))
        out["log_return_1d"] = log_return
        # sample stdev of the last 20 log returns: TA-Lib's population STDDEV rescaled to ddof=1
        per_asset("realized_vol_20", talib.STDDEV, (log_return,), 20, 1.0)
        out["realized_vol_20"] *= np.sqrt(20 / 19) * np.where(crypto, np.sqrt(365.0), np.sqrt(252.0))
        per_asset("volume_sma_20", talib.SMA, (v,), timeperiod=20)
        prior = lagged(out.pop("volume_sma_20"), 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["rvol_20"] = np.where(prior != 0, v / prior, np.nan)
        out["dollar_volume"] = c * v
        for n in (20, 50, 200):
            out[f"dist_sma_{n}"] = c / out[f"sma_{n}"] - 1
        out["sma_50_slope"] = out["sma_50"] / lagged(out["sma_50"], 5) - 1
        out["sma_200_slope"] = out["sma_200"] / lagged(out["sma_200"], 5) - 1
        bull = (c > out["sma_200"]) & (out["sma_50"] > out["sma_200"])
        bear = (c < out["sma_200"]) & (out["sma_50"] < out["sma_200"])
        codes = np.where(bull, 0, np.where(bear, 1, 2)).astype(np.int8)
        regime = pa.DictionaryArray.from_arrays(
            pa.array(codes, mask=np.isnan(out["sma_200"])), pa.array(["bull", "bear", "neutral"])
        )
        out["atr_pct_14"] = out["atr_14"] / c
        width = out["bb_upper"] - out["bb_lower"]
        with np.errstate(divide="ignore", invalid="ignore"):
            out["bb_pct_b"] = np.where(width != 0, (c - out["bb_lower"]) / width, np.nan)
        out["bb_width"] = width / out["bb_middle"]
        per_asset(
            "willr_14",
            talib.WILLR,
            (
                h,
                lo,
                c,
            ),
            14,
        )
        per_asset(
            "cci_20",
            talib.CCI,
            (
                h,
                lo,
                c,
            ),
            20,
        )
        per_asset(
            ("stoch_k", "stoch_d"),
            talib.STOCH,
            (
                h,
                lo,
                c,
            ),
            14,
            3,
            0,
            3,
            0,
        )
        per_asset(
            "mfi_14",
            talib.MFI,
            (
                h,
                lo,
                c,
                v,
            ),
            14,
        )
        per_asset(
            "obv",
            talib.OBV,
            (
                c,
                v,
            ),
        )
        per_asset(
            "adx_14",
            talib.ADX,
            (
                h,
                lo,
                c,
            ),
            14,
        )
        per_asset("donchian_high_20", talib.MAX, (h,), 20)
        per_asset("donchian_low_20", talib.MIN, (lo,), 20)
        # 52 weeks by the calendar (date - 364 .. date), NULL before a full year of history:
        # each row's window start by one searchsorted over (asset, day), then range max/min
        # from a sparse table (log2 levels of pairwise max/min over the whole panel).
        key = asset.astype(np.int64) * 1_000_000 + days
        first = np.searchsorted(key, key - 364)
        full_year = days - 364 >= np.repeat(days[starts], ends - starts)
        for name, series, pick in (("high_52w", h, np.maximum), ("low_52w", lo, np.minimum)):
            levels = [series]
            while 2 ** len(levels) <= 365:
                previous, step = levels[-1], 2 ** (len(levels) - 1)
                levels.append(pick(previous, np.r_[previous[step:], previous[-step:]]))
            length = np.arange(rows) - first + 1
            level = np.floor(np.log2(length)).astype(np.int64)
            table = np.stack(levels)
            value = pick(table[level, first], table[level, np.arange(rows) - (1 << level) + 1])
            out[name] = np.where(full_year, value, np.nan)
        out["dist_high_52w"] = c / out["high_52w"] - 1
        drawdown = np.empty(rows)
        for s, e in zip(starts, ends, strict=True):
            drawdown[s:e] = c[s:e] / np.maximum.accumulate(c[s:e]) - 1
        out["drawdown"] = drawdown
        columns = {"asset_id": panel["asset_id"], "date": panel["date"]}
        columns |= {name: pa.array(values, from_pandas=True) for name, values in out.items()}
        columns["regime"] = regime
        features = pa.table(columns)  # noqa: F841 - read by DuckDB's replacement scan
        con.execute(
            "create or replace table strong_baseline_features as "
            "select * replace (cast(regime as varchar) as regime) from features"
        )
        return rows


def compare_baselines(duckdb_path: str) -> dict:
    """The two baselines' largest relative difference and NULL mismatches per column: the strong
    one must compute the same features as the naive one for the ratio to mean anything."""
    import duckdb

    with duckdb.connect(duckdb_path, read_only=True) as con:
        columns = [
            name for name, kind in con.execute("select column_name, data_type from information_schema.columns "
                                               "where table_name = 'baseline_features'").fetchall()
            if name not in ("asset_id", "date") and kind != "VARCHAR"
        ]  # fmt: skip
        checks = ", ".join(
            f"max(abs(n.{c} - s.{c}) / greatest(abs(n.{c}), 1e-12)), "
            f"count(*) filter (where (n.{c} is null) <> (s.{c} is null))"
            for c in columns
        )
        values = con.execute(
            f"select {checks}, count(*) filter (where n.regime is distinct from s.regime), count(*) "
            "from baseline_features n join strong_baseline_features s using (asset_id, date)"
        ).fetchone()
    differences = {
        c: {"max_relative": values[2 * i], "null_mismatches": values[2 * i + 1]} for i, c in enumerate(columns)
    }
    return {"rows_joined": values[-1], "regime_mismatches": values[-2], "columns": differences}


# ---------------------------------------------------------------- EMA: recursive CTE vs vectorised


EMA_BLOCK = 64


def ema_sql(method: str, source: str, n: int = 12) -> str:
    """EMA(close, n) seeded with the SMA of the first n closes (TA-Lib), over every asset of `source`
    (asset_id, rn, close; rn 0-based), summarised to one row.

    recursive: one recursive CTE stepping all assets a row at a time (what the models use).
    vectorised: z_t = a z_(t-1) + v_t with v = 0 before row n-1, the seed at n-1, k*close after;
    within blocks of EMA_BLOCK rows z_t = a^(p+1) Z_b + a^p U_t with U_t the in-block prefix sum
    of v_j a^(-p_j) (p = position in block), and a short recursion across blocks for Z_b.
    Exact in real arithmetic: no truncation, the recursion over blocks carries everything."""
    k, a = f"(cast(2 as double precision) / {n + 1})", f"(1 - cast(2 as double precision) / {n + 1})"
    if method == "recursive":
        return f"""
            with recursive ema (asset_id, rn, e) as (
                select asset_id, rn, close from {source} where rn = 0
                union all
                select cur.asset_id, cur.rn,
                    case when cur.rn < {n - 1} then prev.e + cur.close
                        when cur.rn = {n - 1} then (prev.e + cur.close) / {n}
                        else (cur.close - prev.e) * {k} + prev.e end
                from ema as prev inner join {source} as cur on cur.asset_id = prev.asset_id and cur.rn = prev.rn + 1
            )
            select count(*), sum(case when rn >= {n - 1} then e end) from ema
        """
    b = EMA_BLOCK
    return f"""
        with recursive inputs as (
            select asset_id, rn, cast(floor(rn / {b}) as integer) as block, rn % {b} as position,
                case when rn < {n - 1} then cast(0 as double precision)
                    when rn = {n - 1} then avg(close) over (partition by asset_id order by rn rows {n - 1} preceding)
                    else {k} * close end as v
            from {source}
        ),
        scaled as (
            select *, v * power({a}, -position) as w from inputs
        ),
        prefixed as (
            select *, sum(w) over (partition by asset_id, block order by rn rows unbounded preceding) as u
            from scaled
        ),
        block_totals as (
            select asset_id, block, sum(w) as total from scaled group by asset_id, block
        ),
        block_starts (asset_id, block, z) as (
            select asset_id, 0, cast(0 as double precision) from block_totals where block = 0
            union all
            select t.asset_id, t.block + 1, power({a}, {b}) * s.z + power({a}, {b - 1}) * t.total
            from block_starts as s inner join block_totals as t on t.asset_id = s.asset_id and t.block = s.block
        ),
        ema as (
            select p.asset_id, p.rn, power({a}, p.position + 1) * s.z + power({a}, p.position) * p.u as e
            from prefixed as p inner join block_starts as s on s.asset_id = p.asset_id and s.block = p.block
        )
        select count(*), sum(case when rn >= {n - 1} then e end) from ema
    """


def ema_formulation(duckdb_path: str, target: str, method: str) -> list:
    """Time one EMA formulation over the batch table of the last full build (both EMAs 12 and 26)."""
    source = "features.int_feature_bars_batched"
    if target == "dev":
        import duckdb

        with duckdb.connect(duckdb_path) as con:
            return [con.execute(ema_sql(method, source, n)).fetchall()[0][1] for n in (12, 26)]
    import psycopg2

    connection = psycopg2.connect("")
    with connection.cursor() as cursor:
        sums = []
        for n in (12, 26):
            cursor.execute(ema_sql(method, source, n))
            sums.append(cursor.fetchone()[1])
    connection.close()
    return sums


# ---------------------------------------------------------------- orchestration


def start_postgres() -> tuple[object, dict[str, str]]:
    from tests.pg_cluster import start_cluster

    cluster = start_cluster()
    environ = {**cluster.environ, "PGDATABASE": "market_elt"}
    os.environ.update(environ)
    return cluster, environ


def summarise(samples: list[dict]) -> dict:
    result = {
        "seconds_median": round(statistics.median(s["seconds"] for s in samples), 2),
        "seconds_all": [round(s["seconds"], 2) for s in samples],
        "cpu_seconds_median": round(statistics.median(s["cpu_seconds"] for s in samples), 2),
        "peak_rss_mib": round(max(s["peak_rss_mib"] for s in samples), 1),
    }
    if isinstance(samples[0]["detail"], list):  # EMA formulations: the sums, to compare the methods
        result["ema_sums"] = samples[-1]["detail"]
    if isinstance(samples[0]["detail"], dict):  # a dbt run: dbt's elapsed time (no start-up, parse) and per model
        result["dbt_seconds_median"] = round(statistics.median(s["detail"]["dbt_seconds"] for s in samples), 2)
        # the models' own execution times (dbt's timing artifacts): the build, without dbt's fixed costs
        result["model_seconds_median"] = round(
            statistics.median(sum(s["detail"]["models"].values()) for s in samples), 2
        )
        result["models_last"] = samples[-1]["detail"]["models"]
    if "server_peak_rss_mib" in samples[0]:
        result["server_peak_rss_mib"] = max(s["server_peak_rss_mib"] for s in samples)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 assets x 400 days, one repeat (about a minute)")
    parser.add_argument("--assets", type=int, default=2000, help="assets in the generated panel (default 2000)")
    parser.add_argument("--days", type=int, default=3650, help="days per asset (default 3650)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each measurement; the median is reported")
    parser.add_argument("--postgres-repeats", type=int, help="repeats on Postgres (default: --repeats)")
    steps = ["postgres", "baseline", "incremental", "restated", "ema"]
    parser.add_argument("--skip", nargs="*", default=[], choices=steps, help="steps to leave out")
    parser.add_argument("--workdir", help="where the DuckDB file goes (default: a temp dir, removed afterwards)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.assets, args.days, args.repeats = 100, 400, 1

    _quiet()
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="features-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    duckdb_path = str(workdir / "bench.duckdb")
    if Path(duckdb_path).exists():
        Path(duckdb_path).unlink()
    results: dict = {"assets": args.assets, "days": args.days, "bars": args.assets * args.days,
                     "repeats": args.repeats, "cpus": os.cpu_count()}  # fmt: skip

    def report(name: str, samples: list[dict]) -> None:
        results[name] = summarise(samples)
        print(f"{name:<28} {json.dumps(results[name])}", flush=True)

    print(f"panel: {args.assets} assets x {args.days} days = {args.assets * args.days:,} bars", flush=True)
    measure(generate_panel, duckdb_path, args.assets, args.days)

    report("duckdb_full_build", [measure(dbt_run, duckdb_path, "dev", True) for _ in range(args.repeats)])
    if "ema" not in args.skip:
        for method in ("recursive", "vectorised"):
            report(f"duckdb_ema_12_26_{method}",
                   [measure(ema_formulation, duckdb_path, "dev", method) for _ in range(args.repeats)])  # fmt: skip
    if "incremental" not in args.skip:
        samples = []
        for _ in range(args.repeats):
            measure(append_day, duckdb_path, "dev")
            samples.append(measure(dbt_run, duckdb_path, "dev", False))
            measure(remove_appended_day, duckdb_path, "dev")
        report("duckdb_incremental_1_day", samples)
    if "restated" not in args.skip:
        samples = []
        for repeat in range(args.repeats):
            measure(append_day, duckdb_path, "dev")
            measure(restate_assets, duckdb_path, "dev", repeat)
            samples.append(measure(dbt_run, duckdb_path, "dev", False))
            measure(remove_appended_day, duckdb_path, "dev")
            measure(restore_restated, duckdb_path, "dev")
        report(f"duckdb_incremental_1_day_{args.assets // RESTATED_EVERY}_restated", samples)
    if "baseline" not in args.skip:
        report("baseline_talib_pandas", [measure(talib_pandas_baseline, duckdb_path) for _ in range(args.repeats)])
        report("baseline_talib_numpy", [measure(talib_numpy_baseline, duckdb_path) for _ in range(args.repeats)])
        agreement = measure(compare_baselines, duckdb_path)["detail"]
        worst = max(agreement["columns"].items(), key=lambda item: item[1]["max_relative"] or 0)
        results["baselines_agree"] = agreement
        print(f"baselines agree on {agreement['rows_joined']:,} rows: worst column {worst[0]} "
              f"(max relative difference {worst[1]['max_relative']:.2e}), NULL mismatches "
              f"{sum(c['null_mismatches'] for c in agreement['columns'].values())}, "
              f"regime mismatches {agreement['regime_mismatches']}", flush=True)  # fmt: skip

    if "postgres" not in args.skip:
        cluster, _ = start_postgres()
        try:
            measure(copy_panel_to_postgres, duckdb_path, str(workdir))
            datadir = str(cluster.datadir)
            pg_repeats = args.postgres_repeats or args.repeats
            samples = [measure(dbt_run, duckdb_path, "postgres", True, pg_datadir=datadir) for _ in range(pg_repeats)]
            report("postgres_full_build", samples)
            if "ema" not in args.skip:
                for method in ("recursive", "vectorised"):
                    samples = [measure(ema_formulation, duckdb_path, "postgres", method) for _ in range(pg_repeats)]
                    report(f"postgres_ema_12_26_{method}", samples)
            if "incremental" not in args.skip:
                samples = []
                for _ in range(pg_repeats):
                    measure(append_day, duckdb_path, "postgres")
                    samples.append(measure(dbt_run, duckdb_path, "postgres", False, pg_datadir=datadir))
                    measure(remove_appended_day, duckdb_path, "postgres")
                report("postgres_incremental_1_day", samples)
        finally:
            cluster.stop()

    full = results["duckdb_full_build"]
    for baseline_name in ("baseline_talib_pandas", "baseline_talib_numpy"):
        if baseline_name not in results:
            continue
        baseline, kind = results[baseline_name]["seconds_median"], baseline_name.removeprefix("baseline_")
        results[f"duckdb_full_vs_{kind}"] = round(full["seconds_median"] / baseline, 2)
        results[f"duckdb_full_dbt_vs_{kind}"] = round(full["dbt_seconds_median"] / baseline, 2)
        results[f"duckdb_full_models_vs_{kind}"] = round(full["model_seconds_median"] / baseline, 2)
        print(f"duckdb full build / {kind} baseline = {results[f'duckdb_full_vs_{kind}']} wall, "
              f"{results[f'duckdb_full_dbt_vs_{kind}']} dbt elapsed, "
              f"{results[f'duckdb_full_models_vs_{kind}']} model time (target vs the numpy one <= 1.5)")  # fmt: skip
    if "duckdb_incremental_1_day" in results:
        incremental = results["duckdb_incremental_1_day"]
        results["duckdb_incremental_share"] = round(incremental["seconds_median"] / full["seconds_median"], 4)
        results["duckdb_incremental_dbt_share"] = round(
            incremental["dbt_seconds_median"] / full["dbt_seconds_median"], 4
        )
        results["duckdb_incremental_model_share"] = round(
            incremental["model_seconds_median"] / full["model_seconds_median"], 4
        )
        print(f"duckdb incremental / full build = {results['duckdb_incremental_share']:.1%} wall, "
              f"{results['duckdb_incremental_dbt_share']:.1%} dbt elapsed, "
              f"{results['duckdb_incremental_model_share']:.1%} model time (target <= 3%)")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
