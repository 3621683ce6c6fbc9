"""One asset's price chart as a PNG: close with its daily high-low range, SMA 50/200 and
Bollinger bands (20, 2) on top, RSI 14 with its 30/70 lines below.

Why matplotlib with the Agg renderer: the output is a static file an analyst can attach to a
ticket or open anywhere; it needs no JavaScript, no browser and no display, so it works on a
headless server, in CI and offline. The figure is built with `matplotlib.figure.Figure` and
`FigureCanvasAgg` directly, never pyplot, so no global backend or figure state is touched.

Features come from `daily_features` (computed in dbt, the numbers analysts query): the chart
never computes one itself, so a chart and a query always agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from extract.settings import Settings
from flows.runtime.warehouse import query

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
    if missing == {"*"}:
        raise ValueError("daily_features has not been built yet: run `market-elt transform` (or `run`) first")
    if missing:
        raise ValueError(f"daily_features lacks {', '.join(sorted(missing))}: run `market-elt transform` to rebuild it")
    return Series(symbol, name, dates, high, low, close, _stored_features(settings, asset_id, dates))


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
    price.set_title(f"{series.symbol} ({series.name}): daily close, {series.dates[0]} to {series.dates[-1]}")
    momentum.plot(series.dates, f["rsi_14"], color="tab:purple", linewidth=1.0, label="RSI 14")
    for level in (30, 70):
        momentum.axhline(level, color="0.4", linestyle="--", linewidth=0.8)
    momentum.set_ylim(0, 100)
    momentum.set_yticks([0, 30, 50, 70, 100])
    momentum.set_ylabel("RSI 14")
    momentum.grid(alpha=0.3)
    figure.savefig(out_path, format="png")
