"""`market-elt universe add --from-csv FILE [--index NAME]`: append equities to the universe.

A constituents file (e.g. an S&P 500 list: `Symbol,Security,...`) becomes rows of
`seeds/assets.csv` with the next free asset ids, active, loaded from Alpaca (`alpaca_symbol` =
the symbol unless the file says otherwise; Alpha Vantage only where the file gives an
`alpha_vantage_symbol`, since its free plan serves 25 calls a day). A symbol already in the
universe is not added again (named, with its id); a symbol twice in the file refuses the whole
file, nothing written. With `--index`, every symbol of the file (new or already there) is a member
in `seeds/index_membership.csv` (index_name, asset_id, symbol, date_added), a membership already
recorded keeping its first date.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from extract.assets import load_assets

# Column names a constituents file may use, lower-cased, for each assets.csv column.
ALIASES = {
    "symbol": ("symbol", "ticker"),
    "name": ("name", "security", "company", "description"),
    "exchange": ("exchange", "mic"),
    "currency": ("currency",),
    "alpaca_symbol": ("alpaca_symbol",),
    "alpha_vantage_symbol": ("alpha_vantage_symbol",),
}
MEMBERSHIP_COLUMNS = ["index_name", "asset_id", "symbol", "date_added"]


@dataclass
class Added:
    added: list[tuple[int, str]] = field(default_factory=list)
    existing: list[tuple[int, str]] = field(default_factory=list)
    memberships: int = 0

    def lines(self) -> list[str]:
        ids = [asset_id for asset_id, _ in self.added]
        span = "" if not ids else f": asset_id {ids[0]}" if len(ids) == 1 else f": asset_ids {ids[0]}..{ids[-1]}"
        lines = [f"added {len(ids)} asset(s){span}"]
        if self.existing:
            named = ", ".join(f"{symbol} (asset_id {asset_id})" for asset_id, symbol in self.existing)
            lines.append(f"already in the universe, not added again: {named}")
        if self.memberships:
            lines.append(f"index membership: {self.memberships} new row(s) in seeds/index_membership.csv")
        return lines


def _column(header: list[str], target: str) -> str | None:
    lowered = {name.strip().lower(): name for name in header}
    return next((lowered[alias] for alias in ALIASES[target] if alias in lowered), None)


def read_constituents(path: Path) -> list[dict[str, str]]:
    """The file's rows as assets.csv fields; a missing symbol column, an empty symbol or a symbol
    twice is a ValueError naming the file and lines."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        columns = {target: _column(header, target) for target in ALIASES}
        if columns["symbol"] is None:
            raise ValueError(f"{path}: no symbol column (expected one of: {', '.join(ALIASES['symbol'])})")
        rows, seen, twice = [], {}, []
        for line, raw in enumerate(reader, start=2):
            values = {target: (raw.get(source) or "").strip() for target, source in columns.items() if source}
            symbol = values["symbol"].upper()
            if not symbol:
                raise ValueError(f"{path}, line {line}: empty symbol")
            if symbol in seen:
                twice.append(f"{symbol} (lines {seen[symbol]} and {line})")
            seen.setdefault(symbol, line)
            rows.append({**values, "symbol": symbol})
    if twice:
        raise ValueError(f"{path}: symbols listed twice, nothing added: {', '.join(twice)}")
    return rows


def add_from_csv(assets_csv: Path, source: Path, index: str | None, today: dt.date) -> Added:
    rows = read_constituents(source)
    universe = load_assets(assets_csv)
    known = {a.symbol.upper(): a.asset_id for a in universe if a.asset_type == "equity"}
    known |= {a.alpaca_symbol.upper(): a.asset_id for a in universe if a.alpaca_symbol}
    with assets_csv.open(newline="", encoding="utf-8") as handle:
        header = list(csv.DictReader(handle).fieldnames or [])
    header += [name for name in ("exchange", "currency", "alpaca_symbol") if name not in header]
    next_id = max((a.asset_id for a in universe), default=0) + 1
    result, new_rows, members = Added(), [], []
    for row in rows:
        symbol = row["symbol"]
        if symbol in known:
            result.existing.append((known[symbol], symbol))
            members.append((known[symbol], symbol))
            continue
        asset = {
            "asset_id": str(next_id), "symbol": symbol, "name": row.get("name") or symbol, "asset_type": "equity",
            "coingecko_id": "", "alpha_vantage_symbol": row.get("alpha_vantage_symbol", ""), "is_active": "true",
            "exchange": row.get("exchange", "").upper(), "currency": row.get("currency", "").upper() or "USD",
            "alpaca_symbol": row.get("alpaca_symbol") or symbol,
        }  # fmt: skip
        new_rows.append(asset)
        result.added.append((next_id, symbol))
        members.append((next_id, symbol))
        known[symbol] = next_id
        next_id += 1
    if new_rows:
        existing_rows = list(csv.DictReader(assets_csv.open(newline="", encoding="utf-8")))
        _write(assets_csv, header, existing_rows + new_rows)
    if index:
        result.memberships = _record_membership(assets_csv.parent / "index_membership.csv", index, members, today)
    return result


def _record_membership(path: Path, index: str, members: list[tuple[int, str]], today: dt.date) -> int:
    rows = list(csv.DictReader(path.open(newline="", encoding="utf-8"))) if path.exists() else []
    present = {(row["index_name"], row["asset_id"]) for row in rows}
    fresh = [
        {"index_name": index, "asset_id": str(asset_id), "symbol": symbol, "date_added": today.isoformat()}
        for asset_id, symbol in members
        if (index, str(asset_id)) not in present
    ]
    _write(path, MEMBERSHIP_COLUMNS, rows + fresh)
    return len(fresh)


def _write(path: Path, header: list[str], rows: list[dict]) -> None:
    """The whole file through a temporary one renamed over it: never half a seed."""
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, path)
