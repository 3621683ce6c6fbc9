"""Price charts as PNG files, each answering one question an analyst asks.

- One symbol (`market-elt chart BTC`): is the trend intact, and is the move stretched? The close
  with its daily high-low range, SMA 50/200 (price above or below them, their crossings), the
  Bollinger bands (20, 2: how far the close is from its recent mean, in its own volatility) and
  RSI 14 with its 30/70 lines (momentum: overbought, oversold).
- Several symbols (`market-elt chart BTC ETH AAPL`): which did better over the same period, and
  did they move together? Every line starts at the first date on which all of them have a daily
  bar (crypto trades every day, equities on their sessions), so the total changes in the legend
  cover the same period. Each series is drawn on its own dates: no forward fill, no invented
  points. By default the closes keep their own prices on a shared log axis, where equal heights
  are equal percentage moves, so shapes compare even when prices differ a thousandfold;
  `--normalize` rebases each to 100 on the common date, so a value reads as "what 100 put in
  then is worth now" (one symbol with `--normalize` gives that single line).
- `--hourly` (one symbol): what happened over the last days, and in whose trading hours? Hourly
  candles from `hourly_bars` (the last 7 days by default) on a background shaded by session
  (ASIA, EUROPE, US by the hour's start in UTC), the x axis in UTC.

`--since DATE` starts any of them at that day.

Why matplotlib with the Agg renderer: the output is a static file an analyst can attach to a
ticket or open anywhere; it needs no JavaScript, no browser and no display, so it works on a
headless server, in CI and offline. The figure is built with `matplotlib.figure.Figure` and
`FigureCanvasAgg` directly, never pyplot, so no global backend or figure state is touched.

Bars and features come from the marts (`daily_bars`, `daily_features`, `hourly_bars`, computed in
dbt, the numbers analysts query): the chart never computes a feature itself, so a chart and a
query always agree. Symbols are user input: they are matched against `assets` in Python, never
interpolated into SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from matplotlib import dates as mdates
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from extract.settings import Settings
from flows.runtime.warehouse import query

FEATURE_COLUMNS = ("sma_50", "sma_200", "bb_upper", "bb_middle", "bb_lower", "rsi_14")
CHARTS_DIR = Path("data/charts")
HOURLY_WINDOW = dt.timedelta(days=7)
HOUR = 1 / 24  # matplotlib's date unit is the day
PRICE_TICKS = "{x:,.10g}"  # 48,500 and 0.000125: no offset or exponent to decode
SESSIONS = {  # hourly_bars.session: its UTC hours and the background it gets
    "ASIA": ("00:00-07:59", "#fbe3c0"),
    "EUROPE": ("08:00-13:59", "#d5ebcc"),
    "US": ("14:00-23:59", "#d3e2f4"),
}


@dataclass(frozen=True)
class Asset:
    asset_id: int
    symbol: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.symbol} ({self.name})"


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


@dataclass
class Line:
    """One asset's daily closes from the comparison's common date on (rebased to 100 there when
    normalized), on the asset's own dates."""

    asset: Asset
    dates: list[dt.date]
    values: np.ndarray

    @property
    def change(self) -> float:
        """Total change over the window, as a fraction."""
        return float(self.values[-1] / self.values[0] - 1)


@dataclass
class Comparison:
    lines: list[Line]
    common_date: dt.date
    normalized: bool


@dataclass
class HourlyBars:
    """One asset's hourly bars; `hours` are the hours' starts, naive UTC."""

    asset: Asset
    hours: list[dt.datetime]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    sessions: list[str]


def chart(
    settings: Settings,
    symbols: Sequence[str],
    out_path: Path | str | None = None,
    *,
    normalize: bool = False,
    since: dt.date | None = None,
    hourly: bool = False,
) -> Path:
    """Write the chart of `symbols` (case-insensitive) to `out_path` (PNG, default from
    `default_out_path`) and return the path: one symbol's features chart, a comparison of several
    (or of one, normalized), or one symbol's hourly candles.

    Raises ValueError, before writing anything, on a repeated symbol, `hourly` with several
    symbols or with `normalize`, an unknown symbol (naming the known ones), a symbol without bars,
    symbols without a common date, or a missing mart."""
    if hourly:
        _check_hourly_arguments(symbols, normalize)
        draw = partial(render_hourly, load_hourly(settings, symbols[0], since))
    elif len(symbols) == 1 and not normalize:
        draw = partial(render, load_series(settings, symbols[0], since))
    else:
        draw = partial(render_comparison, load_comparison(settings, symbols, normalize, since))
    out_path = Path(out_path or default_out_path(symbols, hourly))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    draw(out_path)
    return out_path


def default_out_path(symbols: Sequence[str], hourly: bool = False) -> Path:
    """data/charts/<SYM>.png, <SYM1>-<SYM2>-....png for several, with "-hourly" for hourly candles."""
    stem = "-".join(symbol.strip().upper() for symbol in symbols)
    return CHARTS_DIR / f"{stem}{'-hourly' if hourly else ''}.png"


def _check_hourly_arguments(symbols: Sequence[str], normalize: bool) -> None:
    if len(symbols) != 1:
        raise ValueError(f"--hourly charts one symbol, got {len(symbols)}: {', '.join(symbols)}")
    if normalize:
        raise ValueError("--normalize rebases daily closes; it does not apply to --hourly")


def load_series(settings: Settings, symbol: str, since: dt.date | None = None) -> Series:
    (asset,) = _find_assets(settings, [symbol])
    bars = _daily_bars(settings, asset, "high, low, close", since)
    dates = [row[0] for row in bars]
    high, low, close = (np.array([row[i] for row in bars], dtype=float) for i in (1, 2, 3))
    missing = _missing_feature_columns(settings)
    if missing == {"*"}:
        raise ValueError("daily_features has not been built yet: run `market-elt transform` (or `run`) first")
    if missing:
        raise ValueError(f"daily_features lacks {', '.join(sorted(missing))}: run `market-elt transform` to rebuild it")
    return Series(asset.symbol, asset.name, dates, high, low, close, _stored_features(settings, asset, dates))


def load_comparison(
    settings: Settings, symbols: Sequence[str], normalize: bool = False, since: dt.date | None = None
) -> Comparison:
    """The daily closes of `symbols` from the first date (>= `since`) on which all have a bar,
    rebased to 100 on that date when `normalize`."""
    assets = _find_assets(settings, symbols)
    bars = {asset: _daily_bars(settings, asset, "close", since) for asset in assets}
    common_date = _first_common_date(bars, since)
    return Comparison(
        [_line(asset, rows, common_date, normalize) for asset, rows in bars.items()], common_date, normalize
    )


def _find_assets(settings: Settings, symbols: Sequence[str]) -> list[Asset]:
    # Matched in Python, not interpolated into SQL: the symbols are user input.
    wanted = [symbol.strip().upper() for symbol in symbols]
    repeated = sorted({symbol for symbol in wanted if wanted.count(symbol) > 1})
    if repeated:
        raise ValueError(f"symbol given more than once: {', '.join(repeated)}; name each symbol once")
    rows = query(settings, "select asset_id, symbol, name from assets")
    by_symbol = {known.upper(): Asset(int(asset_id), known, name) for asset_id, known, name in rows}
    for symbol, key in zip(symbols, wanted, strict=True):
        if key not in by_symbol:
            known_symbols = ", ".join(sorted(row[1] for row in rows))
            raise ValueError(f"unknown symbol {symbol!r}; assets has: {known_symbols}")
    return [by_symbol[key] for key in wanted]


def _daily_bars(settings: Settings, asset: Asset, columns: str, since: dt.date | None) -> list[tuple]:
    """(date, *columns) rows of `asset` in date order, from `since` on."""
    from_since = f" and date >= date '{since.isoformat()}'" if since else ""
    rows = query(
        settings,
        f"select date, {columns} from daily_bars where asset_id = {asset.asset_id}{from_since} order by date",
    )
    if not rows:
        on_or_after = f" on or after {since}" if since else ""
        raise ValueError(f"no daily bars for symbol {asset.symbol!r} (asset_id {asset.asset_id}){on_or_after}")
    return rows


def _first_common_date(bars: dict[Asset, list[tuple]], since: dt.date | None) -> dt.date:
    shared = set.intersection(*({row[0] for row in rows} for rows in bars.values()))
    if not shared:
        ranges = "; ".join(f"{asset.symbol} {rows[0][0]} to {rows[-1][0]}" for asset, rows in bars.items())
        on_or_after = f" on or after {since}" if since else ""
        symbols = ", ".join(asset.symbol for asset in bars)
        raise ValueError(f"{symbols} have no date{on_or_after} on which all have a daily bar: {ranges}")
    return min(shared)


def _line(asset: Asset, rows: list[tuple], start: dt.date, normalize: bool) -> Line:
    kept = [row for row in rows if row[0] >= start]
    close = np.array([row[1] for row in kept], dtype=float)
    return Line(asset, [row[0] for row in kept], 100 * close / close[0] if normalize else close)


def load_hourly(settings: Settings, symbol: str, since: dt.date | None = None) -> HourlyBars:
    """`symbol`'s hourly bars from `since` (00:00 UTC) on, by default its last 7 days of hours."""
    (asset,) = _find_assets(settings, [symbol])
    if not _table_exists(settings, "hourly_bars"):
        raise ValueError("hourly_bars has not been built yet: run `market-elt run` (or `market-elt transform`) first")
    start = _hourly_start(settings, asset, since)
    rows = query(
        settings,
        "select hour_start, open, high, low, close, session from hourly_bars"
        f" where asset_id = {asset.asset_id} and hour_start >= timestamp '{start.isoformat(sep=' ')}'"
        " order by hour_start",
    )
    if not rows:
        raise ValueError(f"no hourly bars for symbol {asset.symbol!r} on or after {since}")
    prices = (np.array([row[i] for row in rows], dtype=float) for i in (1, 2, 3, 4))
    return HourlyBars(asset, [row[0] for row in rows], *prices, [row[5] for row in rows])


def _hourly_start(settings: Settings, asset: Asset, since: dt.date | None) -> dt.datetime:
    latest = query(settings, f"select max(hour_start) from hourly_bars where asset_id = {asset.asset_id}")[0][0]
    if latest is None:
        raise ValueError(f"no hourly bars for symbol {asset.symbol!r} (asset_id {asset.asset_id}) in hourly_bars")
    if since:
        return dt.datetime.combine(since, dt.time())
    return latest - HOURLY_WINDOW + dt.timedelta(hours=1)


def _table_exists(settings: Settings, table: str) -> bool:
    rows = query(
        settings,
        "select count(*) from information_schema.tables"
        f" where table_schema = current_schema() and table_name = '{table}'",
    )
    return rows[0][0] > 0


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


def _stored_features(settings: Settings, asset: Asset, dates: list[dt.date]) -> dict[str, np.ndarray]:
    rows = query(
        settings,
        f"select date, {', '.join(FEATURE_COLUMNS)} from daily_features where asset_id = {asset.asset_id}",
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


def render_comparison(comparison: Comparison, out_path: Path) -> None:
    figure = Figure(figsize=(12, 7), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    for line in comparison.lines:
        last = "" if comparison.normalized else f", last {line.values[-1]:,.5g}"  # the level a tick may not show
        axes.plot(line.dates, line.values, linewidth=1.3, label=f"{line.asset.label} {line.change:+.1%}{last}")
    start = comparison.common_date
    end = max(line.dates[-1] for line in comparison.lines)
    symbols = ", ".join(line.asset.symbol for line in comparison.lines)
    window = _comparison_y_axis(axes, comparison)
    axes.set_title(f"{symbols}: daily close {window} (first date all have a bar) to {end}")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title=f"total change, {start} to last bar")
    axes.grid(alpha=0.3)
    _date_axis(axes)
    axes.set_xlim(start, end)
    axes.set_xlabel("date")
    figure.savefig(out_path, format="png")


def _comparison_y_axis(axes: Axes, comparison: Comparison) -> str:
    """Label the y axis (a line at 100 when rebased, a log price axis otherwise); the window's wording."""
    start = comparison.common_date
    if comparison.normalized:
        axes.axhline(100, color="0.25", linewidth=1.0, linestyle="--")
        axes.set_ylabel(f"close, rebased to 100 on {start}")
        return f"rebased to 100 on {start}"
    _log_price_axis(axes)
    axes.set_ylabel("close in its own price, log scale (equal heights = equal % moves)")
    return f"from {start}"


def render_hourly(bars: HourlyBars, out_path: Path) -> None:
    figure = Figure(figsize=(14, 7), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    starts = mdates.date2num(bars.hours)
    for session, left, right in _session_spans(starts, bars.sessions):
        axes.axvspan(left, right, color=SESSIONS[session][1], linewidth=0)
    _draw_candles(axes, starts + HOUR / 2, bars)
    axes.set_xlim(starts[0], starts[-1] + HOUR)
    axes.set_title(
        f"{bars.asset.label}: hourly candles, {bars.hours[0]:%Y-%m-%d %H:%M} to {bars.hours[-1]:%Y-%m-%d %H:%M} UTC"
    )
    axes.set_ylabel("price")
    axes.yaxis.set_major_formatter(ticker.StrMethodFormatter(PRICE_TICKS))
    axes.set_xlabel("hour (UTC)")
    axes.grid(alpha=0.3)
    _date_axis(axes, day_format="%a %d %b")
    legend = [
        Patch(color=colour, label=f"{session} session, {hours} UTC") for session, (hours, colour) in SESSIONS.items()
    ]
    legend += [Patch(color="tab:green", label="close >= open"), Patch(color="tab:red", label="close < open")]
    axes.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.savefig(out_path, format="png")


def _session_spans(starts: np.ndarray, sessions: list[str]) -> list[tuple[str, float, float]]:
    """(session, left, right) runs of consecutive hours of one session; a missing hour ends a run."""
    spans: list[tuple[str, float, float]] = []
    for start, session in zip(starts, sessions, strict=True):
        if spans and spans[-1][0] == session and np.isclose(spans[-1][2], start):
            spans[-1] = (session, spans[-1][1], start + HOUR)
        else:
            spans.append((session, start, start + HOUR))
    return spans


def _draw_candles(axes: Axes, centres: np.ndarray, bars: HourlyBars) -> None:
    colours = np.where(bars.close >= bars.open, "tab:green", "tab:red")
    axes.vlines(centres, bars.low, bars.high, colors=colours, linewidth=0.8)
    body_low = np.minimum(bars.open, bars.close)
    body = np.abs(bars.close - bars.open)
    axes.bar(centres, body, bottom=body_low, width=0.7 * HOUR, color=colours, edgecolor=colours, linewidth=0.5)


def _date_axis(axes: Axes, day_format: str = "%d") -> None:
    """Ticks that fit the window; ticks on days are written `day_format`, and hour ticks at
    midnight show the day, so a multi-day hourly chart never reads as a row of bare numbers."""
    locator = mdates.AutoDateLocator()
    formatter = mdates.ConciseDateFormatter(locator)
    formatter.formats[2] = day_format
    formatter.zero_formats[3] = day_format
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(formatter)


def _log_price_axis(axes: Axes) -> None:
    """A log axis labelled in plain prices at 1, 2, 5 x 10^n (not 10^3, 10^4)."""
    axes.set_yscale("log")
    axes.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(ticker.StrMethodFormatter(PRICE_TICKS))
    axes.yaxis.set_minor_formatter(ticker.NullFormatter())
