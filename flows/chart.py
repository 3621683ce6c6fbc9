"""One asset's price chart as a PNG: close with its daily high-low range, SMA 50/200 and
Bollinger bands (20, 2) on top, RSI 14 with its 30/70 lines below.

Why matplotlib with the Agg renderer: the output is a static file an analyst can attach to a
ticket or open anywhere; it needs no JavaScript, no browser and no display, so it works on a
headless server, in CI and offline. The figure is built with `matplotlib.figure.Figure` and
`FigureCanvasAgg` directly, never pyplot, so no global backend or figure state is touched.

Features come from `daily_features` (computed in dbt, the numbers analysts query). Until that
mart exists, or while it lacks a column, SMA/BB/RSI are computed here with numpy by the same
definitions (shared/docs features.md, TA-Lib conventions) and the title says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from extract.settings import Settings
from flows.warehouse import query

FEATURE_COLUMNS = ("sma_50", "sma_200", "bb_upper", "bb_middle", "bb_lower", "rsi_14")


@dataclass
class Series:
    """One asset's bars and the features drawn over them, aligned on `dates`."""

    symbol: str
    name: str
    dates: list[dt.date]
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    features: dict[str, np.ndarray]
    features_source: str


def chart(settings: Settings, symbol: str, out_path: Path | str) -> Path:
    """Write the chart of `symbol` (case-insensitive) to `out_path` (PNG) and return the path.

    Raises ValueError naming the symbol when it is not in `assets` or has no bars."""
    series = load_series(settings, symbol)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    render(series, out_path)
    return out_path


def load_series(settings: Settings, symbol: str) -> Series:
    asset_id, symbol, name = _find_asset(settings, symbol)
    bars = query(settings, f"select date, high, low, close from daily_bars where asset_id = {asset_id} order by date")
    if not bars:
        raise ValueError(f"no daily bars for symbol {symbol!r} (asset_id {asset_id})")
    dates = [row[0] for row in bars]
    high, low, close = (np.array([row[i] for row in bars], dtype=float) for i in (1, 2, 3))
    missing = _missing_feature_columns(settings)
    if missing:
        features = compute_features(close)
        source = (
            "features computed in numpy (fallback: daily_features not built yet)"
            if missing == {"*"}
            else f"features computed in numpy (fallback: daily_features lacks {', '.join(sorted(missing))})"
        )
    else:
        features = _stored_features(settings, asset_id, dates)
        source = "features from daily_features"
    return Series(symbol, name, dates, high, low, close, features, source)


def _find_asset(settings: Settings, symbol: str) -> tuple[int, str, str]:
    # Matched in Python, not interpolated into SQL: the symbol is user input.
    assets = query(settings, "select asset_id, symbol, name from assets")
    for asset_id, known, name in assets:
        if known.upper() == symbol.strip().upper():
            return int(asset_id), known, name
    known_symbols = ", ".join(sorted(row[1] for row in assets))
    raise ValueError(f"unknown symbol {symbol!r}; assets has: {known_symbols}")


def _missing_feature_columns(settings: Settings) -> set[str]:
    """Feature columns absent from daily_features; {"*"} when the mart itself is missing."""
    rows = query(
        settings,
        "select column_name from information_schema.columns"
        " where table_schema = current_schema() and table_name = 'daily_features'",
    )
    if not rows:
        return {"*"}
    return set(FEATURE_COLUMNS) - {row[0] for row in rows}


def _stored_features(settings: Settings, asset_id: int, dates: list[dt.date]) -> dict[str, np.ndarray]:
    rows = query(
        settings,
        f"select date, {', '.join(FEATURE_COLUMNS)} from daily_features where asset_id = {asset_id}",
    )
    by_date = {row[0]: row[1:] for row in rows}
    empty = (None,) * len(FEATURE_COLUMNS)
    aligned = [by_date.get(day, empty) for day in dates]
    return {
        column: np.array([np.nan if row[i] is None else row[i] for row in aligned], dtype=float)
        for i, column in enumerate(FEATURE_COLUMNS)
    }


def compute_features(close: np.ndarray) -> dict[str, np.ndarray]:
    """SMA 50/200, Bollinger (20, 2, population stdev) and Wilder RSI 14, NaN until the window
    is full: the definitions of features.md, used only when daily_features is unavailable."""
    middle = sma(close, 20)
    deviation = rolling_std(close, 20)
    return {
        "sma_50": sma(close, 50),
        "sma_200": sma(close, 200),
        "bb_upper": middle + 2 * deviation,
        "bb_middle": middle,
        "bb_lower": middle - 2 * deviation,
        "rsi_14": rsi(close, 14),
    }


def sma(values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(values), np.nan)
    if len(values) >= n:
        out[n - 1 :] = np.lib.stride_tricks.sliding_window_view(values, n).mean(axis=1)
    return out


def rolling_std(values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(values), np.nan)
    if len(values) >= n:
        out[n - 1 :] = np.lib.stride_tricks.sliding_window_view(values, n).std(axis=1)
    return out


def rsi(close: np.ndarray, n: int = 14) -> np.ndarray:
    """Wilder's RSI: seed = mean of the first n changes, then avg = ((n-1)*avg + x)/n."""
    out = np.full(len(close), np.nan)
    if len(close) <= n:
        return out
    change = np.diff(close)
    gains, losses = np.clip(change, 0, None), np.clip(-change, 0, None)
    gain, loss = gains[:n].mean(), losses[:n].mean()
    for t in range(n, len(close)):
        if t > n:
            gain = ((n - 1) * gain + gains[t - 1]) / n
            loss = ((n - 1) * loss + losses[t - 1]) / n
        out[t] = 0.0 if gain + loss == 0 else 100 * gain / (gain + loss)
    return out


def render(series: Series, out_path: Path) -> None:
    figure = Figure(figsize=(12, 8), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    price, momentum = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    f = series.features
    price.fill_between(series.dates, series.low, series.high, color="0.85", label="daily high-low")
    price.fill_between(
        series.dates, f["bb_lower"], f["bb_upper"], color="tab:blue", alpha=0.12, label="Bollinger 20, 2"
    )
    price.plot(series.dates, f["bb_upper"], color="tab:blue", linewidth=0.6, alpha=0.6)
    price.plot(series.dates, f["bb_lower"], color="tab:blue", linewidth=0.6, alpha=0.6)
    price.plot(series.dates, series.close, color="black", linewidth=1.2, label="close")
    price.plot(series.dates, f["sma_50"], color="tab:orange", linewidth=1.1, label="SMA 50")
    price.plot(series.dates, f["sma_200"], color="tab:red", linewidth=1.1, label="SMA 200")
    if np.nanmin(series.low) > 0 and np.nanmax(series.high) / np.nanmin(series.low) > 20:
        price.set_yscale("log")  # tokens that move by orders of magnitude stay readable
    price.set_ylabel("price")
    price.legend(loc="best", fontsize="small")
    price.grid(alpha=0.3)
    price.set_title(
        f"{series.symbol} ({series.name}): daily close, {series.dates[0]} to {series.dates[-1]}\n"
        f"{series.features_source}"
    )
    momentum.plot(series.dates, f["rsi_14"], color="tab:purple", linewidth=1.0, label="RSI 14")
    for level in (30, 70):
        momentum.axhline(level, color="0.4", linestyle="--", linewidth=0.8)
    momentum.set_ylim(0, 100)
    momentum.set_yticks([0, 30, 50, 70, 100])
    momentum.set_ylabel("RSI 14")
    momentum.grid(alpha=0.3)
    figure.savefig(out_path, format="png")
