"""The asset universe: `dbt_project/seeds/assets.csv`, edited by analysts, read here and seeded by dbt.

Optional columns (a file without them keeps working): `exchange` (the MIC of the asset's trading
calendar; for equities inferred from an Alpha Vantage suffix, else XNYS; crypto trades every day:
`CRYPTO`), `currency` (ISO 4217 code the provider quotes in, default USD; London quotes in pence:
GBX), `alpaca_symbol`. dbt's `dim_assets` applies the same defaults.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from extract.alpha_vantage.settings import EXCHANGE_SUFFIXES
from extract.calendars import CRYPTO, DEFAULT_EXCHANGE
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
    exchange: str = DEFAULT_EXCHANGE
    currency: str = "USD"
    alpaca_symbol: str | None = None


def infer_exchange(asset_type: str, alpha_vantage_symbol: str | None) -> str:
    """The calendar of an asset whose `exchange` is empty."""
    if asset_type == "crypto":
        return CRYPTO
    suffix = (alpha_vantage_symbol or "").rpartition(".")[2] if "." in (alpha_vantage_symbol or "") else ""
    return EXCHANGE_SUFFIXES.get(suffix.upper(), DEFAULT_EXCHANGE)


def load_assets(path: Path = ASSETS_CSV) -> list[Asset]:
    """Parse and check the universe; a bad row is named by its line number and column."""
    assets = []
    with path.open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                asset_type = row["asset_type"].strip()
                alpha_vantage_symbol = row["alpha_vantage_symbol"].strip() or None
                asset = Asset(
                    asset_id=int(row["asset_id"]),
                    symbol=row["symbol"].strip(),
                    name=row["name"].strip(),
                    asset_type=asset_type,
                    coingecko_id=row["coingecko_id"].strip() or None,
                    alpha_vantage_symbol=alpha_vantage_symbol,
                    is_active=_parse_bool(row["is_active"]),
                    exchange=(row.get("exchange") or "").strip().upper()
                    or infer_exchange(asset_type, alpha_vantage_symbol),
                    currency=(row.get("currency") or "").strip().upper() or "USD",
                    alpaca_symbol=(row.get("alpaca_symbol") or "").strip() or None,
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
