"""Point a run at the bundled provider emulator instead of the real providers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from extract.emulator.server import Emulator, EmulatorConfig
from extract.registry import PROVIDERS
from extract.settings import NO_LIMITS, Settings

# The emulator enforces no limits unless asked to, so offline runs go as fast as it answers (Alpaca's
# keeps its plan's calls per minute, far more than an offline run makes).
UNLIMITED = dict.fromkeys(PROVIDERS, NO_LIMITS)
# The most common user: a free Alpha Vantage key, no CoinGecko key, free Alpaca keys.
DEFAULT_PLANS = {"alpha_vantage": "free", "coingecko": "public", "alpaca": "free"}
OFFLINE_ALPHA_VANTAGE_KEY = "offline-key"
# Keys the emulator knows by plan (EmulatorConfig.coingecko_keys).
COINGECKO_KEYS = {"public": None, "demo": "demo-key", "basic": "basic-key", "pro": "pro-key"}


@contextlib.contextmanager
def provider_settings(settings: Settings, offline: bool, plans: dict[str, str] | None = None) -> Iterator[Settings]:
    """The settings unchanged, or (offline) pointed at an emulator running for the block that
    plays `plans` (default DEFAULT_PLANS). The Alpha Vantage plan is left for the run to learn,
    as a user's first run does. Alpaca gets a key pair of its plan (`free` or `plus`) the
    emulator accepts; the feed stays the configured one."""
    if not offline:
        yield settings
        return
    plans = DEFAULT_PLANS | (plans or {})
    with Emulator(config=EmulatorConfig(alpha_vantage_plan=plans["alpha_vantage"])) as emulator:
        urls = emulator.base_urls(plans["coingecko"])
        alpaca_key_id, alpaca_secret = emulator.alpaca_key_pair(plans["alpaca"])
        yield settings.with_overrides(
            coingecko_plan=plans["coingecko"],
            coingecko_base_url=urls["coingecko"],
            coingecko_api_key=COINGECKO_KEYS[plans["coingecko"]],
            coingecko_plan_note=None,
            alpha_vantage_base_url=urls["alpha_vantage"],
            alpha_vantage_api_key=OFFLINE_ALPHA_VANTAGE_KEY,
            alpha_vantage_plan=None,
            fear_greed_base_url=urls["fear_greed"],
            alpaca_base_url=urls["alpaca"],
            alpaca_api_key_id=alpaca_key_id,
            alpaca_api_secret_key=alpaca_secret,
            alpaca_plan=plans["alpaca"],
            budgets=UNLIMITED,
        )
