"""Point a run at the bundled provider emulator instead of the real providers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from extract.emulator.server import Emulator
from extract.pipeline import PROVIDERS
from extract.settings import Settings

# The emulator enforces no limits unless asked to, so offline runs go as fast as it answers.
UNLIMITED = {provider: {"per_minute": None, "per_day": None} for provider in PROVIDERS}


@contextlib.contextmanager
def provider_settings(settings: Settings, offline: bool) -> Iterator[Settings]:
    """The settings unchanged, or (offline) pointed at an emulator running for the block."""
    if not offline:
        yield settings
        return
    with Emulator() as emulator:
        urls = emulator.base_urls()
        yield settings.with_overrides(
            coingecko_plan="public",
            coingecko_base_url=urls["coingecko"],
            coingecko_api_key=None,
            alpha_vantage_base_url=urls["alpha_vantage"],
            alpha_vantage_api_key="offline-demo-key",
            fear_greed_base_url=urls["fear_greed"],
            budgets=UNLIMITED,
        )
