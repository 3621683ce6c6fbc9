"""Test data and reference implementations for daily_features (tests/dbt/test_features.py).

Bars are written straight into hand-made `int_daily_bars` and `assets` tables of a fresh
warehouse (where dbt_project.yml puts those models); only the feature models are then run, so
they read these tables. References: TA-Lib for every column with a TA-Lib call, and an independent numpy
transcription of features.md for the others.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import importlib.util
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from extract.settings import DBT_PROJECT_DIR, Settings
from flows.runtime.dbt import invoke_dbt

FEATURE_MODELS = ["int_feature_bars_batched+"]
STATE_TABLE = "int_daily_features_computed"
BAR_COLUMNS = (
    "asset_id, date, open, high, low, close, volume, dollar_volume, source, adjusted_flag, adjustment, load_id"
)
TOLERANCE = 1e-8

TEXT_COLUMNS = {"regime"}
FEATURE_COLUMNS = [
    "sma_20",
    "sma_50",
    "sma_200",
    "ema_12",
    "ema_26",
    "rsi_14",
    "macd",
    "macd_signal",
    "macd_hist",
    "atr_14",
    "bb_upper",
    "bb_middle",
    "bb_lower",
    "roc_10",
    "return_1d",
    "return_5d",
    "return_20d",
    "return_60d",
    "log_return_1d",
    "realized_vol_20",
    "rvol_20",
    "dollar_volume",
    "dist_sma_20",
    "dist_sma_50",
    "dist_sma_200",
    "sma_50_slope",
    "sma_200_slope",
    "regime",
    "atr_pct_14",
    "bb_pct_b",
    "bb_width",
    "willr_14",
    "cci_20",
    "stoch_k",
    "stoch_d",
    "mfi_14",
    "obv",
    "adx_14",
    "donchian_high_20",
    "donchian_low_20",
    "high_52w",
    "low_52w",
    "dist_high_52w",
    "drawdown",
]


@dataclass
class Series:
    """One asset's bars, oldest first."""

    asset_id: int
    asset_type: str
    dates: list[dt.date]
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    open: np.ndarray = field(default=None)

    def __post_init__(self) -> None:
        for name in ("high", "low", "close", "volume"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=float))
        self.open = self.close.copy() if self.open is None else np.asarray(self.open, dtype=float)

    def without_volume(self, rows: slice) -> Series:
        """The same bars with the volume of `rows` missing (NULL in the warehouse)."""
        volume = self.volume.copy()
        volume[rows] = np.nan
        return Series(self.asset_id, self.asset_type, self.dates, self.high, self.low, self.close, volume, self.open)

    def __len__(self) -> int:
        return len(self.dates)

    def head(self, n: int) -> Series:
        return Series(
            self.asset_id,
            self.asset_type,
            self.dates[:n],
            self.high[:n],
            self.low[:n],
            self.close[:n],
            self.volume[:n],
            self.open[:n],
        )


# ---------------------------------------------------------------- generated and real series


def trading_dates(n: int, start: dt.date = dt.date(2015, 1, 1), weekdays_only: bool = False) -> list[dt.date]:
    dates, day = [], start
    while len(dates) < n:
        if not weekdays_only or day.weekday() < 5:
            dates.append(day)
        day += dt.timedelta(days=1)
    return dates


def random_walk(asset_id: int, n: int, seed: int, asset_type: str = "crypto", price: float = 100.0,
                sigma: float = 0.02, gaps: bool = False) -> Series:  # fmt: skip
    """A geometric random walk with consistent OHLC and integer volumes (some zero)."""
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0.0, sigma, n)))
    open_ = np.concatenate([[price], close[:-1]]) * np.exp(rng.normal(0.0, sigma / 4, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, sigma / 2, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, sigma / 2, n)))
    volume = rng.integers(0, 1_000_000, n).astype(float)
    volume[rng.random(n) < 0.03] = 0.0
    dates = trading_dates(n, weekdays_only=asset_type == "equity")
    if gaps:  # drop random days: rows stay rows, the calendar window sees the holes
        keep = rng.random(n) > 0.1
        keep[0] = True
        dates = [d for d, k in zip(dates, keep, strict=True) if k]
        open_, high, low, close, volume = (x[keep] for x in (open_, high, low, close, volume))
    return Series(asset_id, asset_type, dates, high, low, close, volume, open_)


def flat(asset_id: int, n: int, price: float = 100.0, volume: float = 1000.0) -> Series:
    """Nothing moves: RSI 0, zero-width bands, ATR 0."""
    values = np.full(n, price)
    return Series(asset_id, "crypto", trading_dates(n), values, values, values, np.full(n, volume))


def zero_volume(asset_id: int, n: int, seed: int) -> Series:
    series = random_walk(asset_id, n, seed)
    series.volume = np.zeros(n)
    return series


def sampledata_csv() -> Path | None:
    """bokeh_sampledata's Quandl WIKI daily stock prices (AAPL, FB, GOOG, IBM, MSFT; public domain).

    Located without importing the package (its import needs pandas)."""
    spec = importlib.util.find_spec("bokeh_sampledata")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "_data" / "stocks.csv.gz"
    return path if path.exists() else None


def real_stocks(tickers: dict[str, int], since: str, until: str = "9999") -> list[Series]:
    """Real daily OHLCV from bokeh_sampledata, one Series per ticker (asset ids as given)."""
    path = sampledata_csv()
    if path is None:
        raise FileNotFoundError("bokeh_sampledata is not installed")
    rows: dict[str, list[list[str]]] = {ticker: [] for ticker in tickers}
    with gzip.open(path, "rt", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Ticker"] in rows and since <= row["Date"] < until:
                rows[row["Ticker"]].append(row)
    series = []
    for ticker, asset_id in tickers.items():
        ticker_rows = sorted(rows[ticker], key=lambda r: r["Date"])
        column = {
            key: np.array([float(r[key]) for r in ticker_rows]) for key in ("Open", "High", "Low", "Close", "Volume")
        }
        series.append(
            Series(
                asset_id,
                "equity",
                [dt.date.fromisoformat(r["Date"]) for r in ticker_rows],
                column["High"],
                column["Low"],
                column["Close"],
                column["Volume"],
                column["Open"],
            )
        )
    return series


# ---------------------------------------------------------------- warehouse I/O


def folder_schema(*folders: str) -> str:
    """The custom schema dbt_project.yml gives a model folder (e.g. `marts` -> `audit`,
    `intermediate`, `features`): the innermost one set on the way down."""
    import yaml

    config = (yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text()).get("models") or {})["market_elt"]
    schema = None
    for folder in folders:
        config = config.get(folder) or {}
        schema = config.get("+schema", schema)
    return schema


def _bars_csv(series: list[Series]) -> str:
    out = io.StringIO()
    for s in series:
        for i, day in enumerate(s.dates):
            o, h, lo, c, v, dv = (
                "" if math.isnan(x) else repr(float(x))  # a missing value is an empty field: NULL
                for x in (s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i], s.close[i] * s.volume[i])
            )
            out.write(f"{s.asset_id},{day.isoformat()},{o},{h},{lo},{c},{v},{dv},test,false,none,test-load\n")
    return out.getvalue()


class Warehouse:
    """The test's warehouse: hand-made int_daily_bars/assets, the feature models, and reads."""

    def __init__(self, settings: Settings, tmp_path: Path) -> None:
        self.settings = settings
        self.tmp_path = tmp_path
        self.engine = settings.destination

    def _spark_execute(self, sql: str, fetch: bool):
        from flows.runtime.warehouse import columns_and_rows, execute

        if fetch:
            return columns_and_rows(self.settings, sql)
        execute(self.settings, [sql])
        return None

    # -- connections
    def _connect(self):
        if self.engine == "duckdb":
            import duckdb

            return duckdb.connect(str(self.settings.duckdb_path))
        import os

        import psycopg2

        connection = psycopg2.connect(
            host=os.environ["PGHOST"],
            port=os.environ["PGPORT"],
            user=os.environ["PGUSER"],
            password=os.environ["PGPASSWORD"],
            dbname=os.environ["PGDATABASE"],
        )
        connection.autocommit = True
        return connection

    def execute(self, sql: str, fetch: bool = False):
        if self.engine == "spark":
            return self._spark_execute(sql, fetch)
        connection = self._connect()
        try:
            cursor = connection.cursor()
            cursor.execute(sql)
            result = cursor.fetchall() if fetch else None
            columns = [d[0] for d in cursor.description] if fetch else None
            return (columns, result) if fetch else None
        finally:
            connection.close()

    @property
    def schema(self) -> str:
        """Where `assets` and daily_features live: the marts' schema."""
        return folder_schema("marts")

    @property
    def bars_relation(self) -> str:
        """What the feature models read their bars from (ref('int_daily_bars'))."""
        return f"{folder_schema('intermediate', 'bars')}.int_daily_bars"

    @property
    def features_schema(self) -> str:
        return folder_schema("intermediate", "features")

    def state_relation(self) -> str:
        return f"{self.features_schema}.{STATE_TABLE}"

    def publish(self) -> str:
        """The flow's publish step (publish_marts); returns the published daily_features."""
        invoke_dbt(["run-operation", "publish_marts"], self.settings)
        return f"{'public' if self.engine == 'postgres' else 'main'}.daily_features"

    def write_bars(self, series: list[Series]) -> None:
        """(Re)create int_daily_bars and assets with exactly these series."""
        data = _bars_csv(series)
        schema, bars = self.schema, self.bars_relation
        statements = [
            f"create schema if not exists {schema}",
            f"create schema if not exists {bars.split('.')[0]}",
            f"drop table if exists {bars}",
            f"drop table if exists {schema}.assets",
            f"create table {bars} (asset_id integer, date date, open double precision, "
            "high double precision, low double precision, close double precision, volume double precision, "
            "dollar_volume double precision, "
            "source varchar(32), adjusted_flag boolean, adjustment varchar(32), load_id varchar(64))",
            f"create table {schema}.assets (asset_id integer, symbol varchar(32), name varchar(200), "
            "asset_type varchar(16), coingecko_id varchar(200), alpha_vantage_symbol varchar(32), is_active boolean)",
        ]
        assets = ", ".join(
            f"({s.asset_id}, 'S{s.asset_id}', 'S{s.asset_id}', '{s.asset_type}', null, null, true)" for s in series
        )
        if self.engine == "spark":
            self._write_spark(statements, assets, data)
            return
        connection = self._connect()
        try:
            cursor = connection.cursor()
            for statement in statements:
                cursor.execute(statement)
            if assets:
                cursor.execute(f"insert into {schema}.assets values {assets}")
            if self.engine == "postgres":
                cursor.copy_expert(f"copy {bars} ({BAR_COLUMNS}) from stdin with (format csv)", io.StringIO(data))
            else:
                path = self.tmp_path / "bars.csv"
                path.write_text(data)
                cursor.execute(
                    f"insert into {bars} select * from read_csv('{path}', header = false, columns = {{"
                    "'asset_id': 'INTEGER', 'date': 'DATE', 'open': 'DOUBLE', 'high': 'DOUBLE', 'low': 'DOUBLE', "
                    "'close': 'DOUBLE', 'volume': 'DOUBLE', 'dollar_volume': 'DOUBLE', 'source': 'VARCHAR', "
                    "'adjusted_flag': 'BOOLEAN', 'adjustment': 'VARCHAR', 'load_id': 'VARCHAR'})"
                )
        finally:
            connection.close()

    def _write_spark(self, statements: list[str], assets: str, data: str) -> None:
        """Spark: the same tables as Parquet (`schema` is Spark's `database`), the bars read
        from a CSV file by Spark itself."""
        from flows.runtime.spark import query_session

        spark = query_session(self.settings)
        for statement in statements:
            spark.sql(statement.replace("create schema", "create database").replace(" double precision", " double"))
        if assets:
            spark.sql(f"insert into {self.schema}.assets values {assets}")
        path = self.tmp_path / "bars.csv"
        path.write_text(data)
        columns = spark.table(self.bars_relation).schema
        spark.read.csv(str(path), schema=columns, header=False).write.insertInto(self.bars_relation)

    def run_features(self, full_refresh: bool = False) -> None:
        command = ["run", "--select", *FEATURE_MODELS]
        full_refresh = full_refresh or self.engine == "spark"  # every Spark build is a full one
        invoke_dbt([*command, "--full-refresh"] if full_refresh else command, self.settings)

    def read(self, relation: str | None = None, columns: str = "*") -> dict[int, dict[str, np.ndarray]]:
        """Rows per asset, in date order: {asset_id: {column: array}} (NULL as NaN / None)."""
        relation = relation or f"{self.schema}.daily_features"
        names, rows = self.execute(f"select {columns} from {relation} order by asset_id, date", fetch=True)
        by_asset: dict[int, list[tuple]] = {}
        for row in rows:
            by_asset.setdefault(row[0], []).append(row)
        result = {}
        for asset_id, asset_rows in by_asset.items():
            table = {}
            for index, name in enumerate(names):
                values = [r[index] for r in asset_rows]
                if name in TEXT_COLUMNS or name in (
                    "date",
                    "computed_at",
                    "state_history_hash",
                    "state_context_start",
                    "first_date",
                ):
                    table[name] = np.array(values, dtype=object)
                else:
                    table[name] = np.array([math.nan if v is None else float(v) for v in values])
            result[asset_id] = table
        return result


# ---------------------------------------------------------------- references


# Every TA-Lib-backed column of daily_features, checked for parity by naming it here: the column,
# the TA-Lib function, its inputs (h, l, c, v: high, low, close, volume), its arguments after the
# inputs, and which output it is (None for a function with one).
TALIB_COLUMNS = {
    "sma_20": ("SMA", "c", (20,), None),
    "sma_50": ("SMA", "c", (50,), None),
    "sma_200": ("SMA", "c", (200,), None),
    "ema_12": ("EMA", "c", (12,), None),
    "ema_26": ("EMA", "c", (26,), None),
    "rsi_14": ("RSI", "c", (14,), None),
    "atr_14": ("ATR", "hlc", (14,), None),
    "roc_10": ("ROC", "c", (10,), None),
    "willr_14": ("WILLR", "hlc", (14,), None),
    "cci_20": ("CCI", "hlc", (20,), None),
    "mfi_14": ("MFI", "hlcv", (14,), None),
    "obv": ("OBV", "cv", (), None),
    "adx_14": ("ADX", "hlc", (14,), None),
    "donchian_high_20": ("MAX", "h", (20,), None),
    "donchian_low_20": ("MIN", "l", (20,), None),
    "macd": ("MACD", "c", (12, 26, 9), 0),
    "macd_signal": ("MACD", "c", (12, 26, 9), 1),
    "macd_hist": ("MACD", "c", (12, 26, 9), 2),
    "bb_upper": ("BBANDS", "c", (20, 2.0, 2.0, 0), 0),
    "bb_middle": ("BBANDS", "c", (20, 2.0, 2.0, 0), 1),
    "bb_lower": ("BBANDS", "c", (20, 2.0, 2.0, 0), 2),
    "stoch_k": ("STOCH", "hlc", (14, 3, 0, 3, 0), 0),
    "stoch_d": ("STOCH", "hlc", (14, 3, 0, 3, 0), 1),
}


def talib_reference(s: Series) -> dict[str, np.ndarray]:
    import talib

    inputs = {"h": s.high, "l": s.low, "c": s.close, "v": s.volume}
    reference = {}
    for column, (function, names, arguments, output) in TALIB_COLUMNS.items():
        result = getattr(talib, function)(*(inputs[name] for name in names), *arguments)
        reference[column] = result if output is None else result[output]
    return reference


def _rolling(x: np.ndarray, n: int, fn, shift: int = 0) -> np.ndarray:
    """fn over x[t-n+1-shift .. t-shift] for every t where that window exists, else NaN."""
    out = np.full(len(x), np.nan)
    for t in range(n - 1 + shift, len(x)):
        out[t] = fn(x[t - n + 1 - shift : t + 1 - shift])
    return out


def _lagged_ratio(x: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
    out[n:] = x[n:] / x[:-n] - 1
    return out


def _poisoned_from(x: np.ndarray) -> int:
    """The first missing value after the series' first present one (features.md, "Missing
    inputs": it makes the feature NULL from that row on), or len(x)."""
    present = np.flatnonzero(~np.isnan(x))
    if not present.size:
        return len(x)
    missing = np.flatnonzero(np.isnan(x[present[0] :]))
    return int(present[0] + missing[0]) if missing.size else len(x)


def numpy_reference(s: Series) -> dict[str, np.ndarray | list]:
    """features.md's extended set, transcribed independently of the SQL."""
    h, lo, c, v = s.high, s.low, s.close, s.volume
    n = len(c)
    sma = {k: _rolling(c, k, np.mean) for k in (20, 50, 200)}
    std20 = _rolling(c, 20, lambda w: np.std(w, ddof=0))
    upper, lower = sma[20] + 2 * std20, sma[20] - 2 * std20
    log_return = np.full(n, np.nan)
    log_return[1:] = np.log(c[1:] / c[:-1])
    annual = {"crypto": 365.0, "equity": 252.0}[s.asset_type]
    realized = np.full(n, np.nan)
    for t in range(20, n):
        realized[t] = np.std(log_return[t - 19 : t + 1], ddof=1) * math.sqrt(annual)
    prior_mean = _rolling(v, 20, np.mean, shift=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rvol = np.where(prior_mean == 0, np.nan, v / prior_mean)
        width = upper - lower
        pct_b = np.where(width == 0, np.nan, (c - lower) / width)
    rvol[_poisoned_from(v) :] = np.nan
    slope = {}
    for k in (50, 200):
        slope[k] = np.full(n, np.nan)
        slope[k][5:] = sma[k][5:] / sma[k][:-5] - 1
    regime = []
    for t in range(n):
        if np.isnan(sma[200][t]):
            regime.append(None)
        elif c[t] > sma[200][t] and sma[50][t] > sma[200][t]:
            regime.append("bull")
        elif c[t] < sma[200][t] and sma[50][t] < sma[200][t]:
            regime.append("bear")
        else:
            regime.append("neutral")
    high_52w, low_52w = np.full(n, np.nan), np.full(n, np.nan)
    ordinals = np.array([d.toordinal() for d in s.dates])
    for t in range(n):
        if ordinals[0] <= ordinals[t] - 364:
            window = ordinals >= ordinals[t] - 364
            window[t + 1 :] = False
            high_52w[t], low_52w[t] = h[window].max(), lo[window].min()
    import talib

    atr = talib.ATR(h, lo, c, 14)
    return {
        "return_1d": _lagged_ratio(c, 1),
        "return_5d": _lagged_ratio(c, 5),
        "return_20d": _lagged_ratio(c, 20),
        "return_60d": _lagged_ratio(c, 60),
        "log_return_1d": log_return,
        "realized_vol_20": realized,
        "rvol_20": rvol,
        "dollar_volume": c * v,
        "dist_sma_20": c / sma[20] - 1,
        "dist_sma_50": c / sma[50] - 1,
        "dist_sma_200": c / sma[200] - 1,
        "sma_50_slope": slope[50],
        "sma_200_slope": slope[200],
        "regime": regime,
        "atr_pct_14": atr / c,
        "bb_pct_b": pct_b,
        "bb_width": (upper - lower) / sma[20],
        "high_52w": high_52w,
        "low_52w": low_52w,
        "dist_high_52w": c / high_52w - 1,
        "drawdown": c / np.maximum.accumulate(c) - 1,
    }


# Price-level columns: compared relatively for an asset priced below 1 (features.md), so a 2e-9
# token's SMA that came back as 0 fails instead of passing an absolute 1e-8.
PRICE_LEVEL_COLUMNS = {
    "sma_20", "sma_50", "sma_200", "ema_12", "ema_26", "bb_upper", "bb_middle", "bb_lower", "atr_14",
    "macd", "macd_signal", "macd_hist", "donchian_high_20", "donchian_low_20", "high_52w", "low_52w",
}  # fmt: skip


def mismatches(ours: dict[str, np.ndarray], reference: dict, label: str, below_one: bool = False) -> list[str]:
    """Parity failures: NULL exactly where the reference is NaN, else |a-b| <= 1e-8 * max(1, |b|);
    for price-level columns of an asset priced below 1 (`below_one`), |a-b| <= 1e-8 * |b|."""
    problems = []
    for column, expected in reference.items():
        got = ours[column]
        if column in TEXT_COLUMNS:
            bad = [i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b]
            if bad:
                problems.append(
                    f"{label} {column}: differs at rows {bad[:5]} (got {got[bad[0]]!r}, want {expected[bad[0]]!r})"
                )
            continue
        expected = np.asarray(expected, dtype=float)
        null_diff = np.flatnonzero(np.isnan(got) != np.isnan(expected))
        if null_diff.size:
            i = null_diff[0]
            problems.append(
                f"{label} {column}: NULL mismatch at rows {null_diff[:5].tolist()} (got {got[i]}, want {expected[i]})"
            )
            continue
        both = ~np.isnan(expected)
        relative = below_one and column in PRICE_LEVEL_COLUMNS
        scale = np.abs(expected[both]) if relative else np.maximum(1.0, np.abs(expected[both]))
        with np.errstate(divide="ignore", invalid="ignore"):
            error = np.where(got[both] == expected[both], 0.0, np.abs(got[both] - expected[both]) / scale)
        if error.size and error.max() > TOLERANCE:
            i = np.flatnonzero(both)[int(error.argmax())]
            problems.append(
                f"{label} {column}: max error {error.max():.3g} at row {i} (got {got[i]!r}, want {expected[i]!r})"
            )
    return problems


def check_parity(warehouse_rows: dict[int, dict[str, np.ndarray]], series: list[Series]) -> list[str]:
    problems = []
    for s in series:
        ours = warehouse_rows.get(s.asset_id)
        if ours is None or len(ours["date"]) != len(s):
            problems.append(f"asset {s.asset_id}: {0 if ours is None else len(ours['date'])} rows, want {len(s)}")
            continue
        below_one = bool(np.nanmax(s.close) < 1)
        problems += mismatches(ours, talib_reference(s), f"asset {s.asset_id} (talib)", below_one)
        problems += mismatches(ours, numpy_reference(s), f"asset {s.asset_id} (numpy)", below_one)
    return problems
