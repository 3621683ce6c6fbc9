"""The asset universe: `dbt_project/seeds/assets.csv`, edited by analysts, read here and seeded by dbt."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from extract.settings import ASSETS_CSV

ASSET_TYPES = ("crypto", "equity")


@dataclass(frozen=True)
class Asset:
    asset_id: int
    symbol: str
    name: str
    asset_type: str
    coingecko_id: str | None
    alpha_vantage_symbol: str | None
    is_active: bool


def load_assets(path: Path = ASSETS_CSV) -> list[Asset]:
    """Parse and check the universe; a bad row is named by its line number and column."""
    assets = []
    with path.open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                asset = Asset(
                    asset_id=int(row["asset_id"]),
                    symbol=row["symbol"].strip(),
                    name=row["name"].strip(),
                    asset_type=row["asset_type"].strip(),
                    coingecko_id=row["coingecko_id"].strip() or None,
                    alpha_vantage_symbol=row["alpha_vantage_symbol"].strip() or None,
                    is_active=_parse_bool(row["is_active"]),
                )
            except (KeyError, ValueError, AttributeError) as exc:
                raise ValueError(f"{path.name} line {line}: {exc}") from None
            if asset.asset_type not in ASSET_TYPES:
                raise ValueError(
                    f"{path.name} line {line}: asset_type must be one of {ASSET_TYPES}, got {asset.asset_type!r}"
                )
            assets.append(asset)
    return assets


def _parse_bool(value: str) -> bool:
    normalized = value.strip().lower()
    if normalized not in ("true", "false", "1", "0"):
        raise ValueError(f"is_active must be true or false, got {value!r}")
    return normalized in ("true", "1")
