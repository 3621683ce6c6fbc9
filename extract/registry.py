"""Every provider market-elt extracts from, by name: one line per provider package."""

from __future__ import annotations

from extract.alpaca import PROVIDER_SPEC as ALPACA
from extract.alpha_vantage import PROVIDER_SPEC as ALPHA_VANTAGE
from extract.coingecko import PROVIDER_SPEC as COINGECKO
from extract.fear_greed import PROVIDER_SPEC as FEAR_GREED
from extract.provider import Provider

PROVIDERS: dict[str, Provider] = {spec.name: spec for spec in (COINGECKO, ALPHA_VANTAGE, FEAR_GREED, ALPACA)}


def provider(name: str) -> Provider:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ValueError(f"unknown provider {name!r}; expected one of {', '.join(PROVIDERS)}") from None
