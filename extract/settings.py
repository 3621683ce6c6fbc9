"""The one place configuration is read: environment first, then dlt's config/secrets files.

Names follow the project contract (README, "Configuration"). Everything else in the
package receives a `Settings` value instead of reading the environment itself, so tests
and the offline emulator can pass their own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import dlt

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
ASSETS_CSV = DBT_PROJECT_DIR / "seeds" / "assets.csv"

COINGECKO_PLANS = ("public", "demo", "pro")
COINGECKO_BASE_URLS = {
    "public": "https://api.coingecko.com/api/v3",
    "demo": "https://api.coingecko.com/api/v3",
    "pro": "https://pro-api.coingecko.com/api/v3",
}
ALPHA_VANTAGE_BASE_URL = "https://www.alphavantage.co"
FEAR_GREED_BASE_URL = "https://api.alternative.me"

# Default call budgets (per minute, per day), from the providers' published limits.
DEFAULT_BUDGETS = {
    ("coingecko", "public"): (10, None),
    ("coingecko", "demo"): (30, 330),  # 10k calls a month
    ("coingecko", "pro"): (500, None),
    ("alpha_vantage", "TIME_SERIES_DAILY"): (5, 25),  # free key
    ("alpha_vantage", "TIME_SERIES_DAILY_ADJUSTED"): (75, None),  # the smallest premium plan
    ("fear_greed", None): (60, None),
}

# Telemetry and update checks must never reach the network (see README, "Privacy").
QUIET_ENVIRONMENT = {
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_UI_ENABLED": "false",
}


def quiet_environment() -> None:
    """Turn telemetry off for dlt, dbt and Prefect unless the user set these already."""
    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


def _lookup(env_name: str | None, dlt_key: str, default: str | None = None) -> str | None:
    """Read `env_name` from the environment, else `dlt_key` from dlt's config and secrets."""
    if env_name and os.environ.get(env_name):
        return os.environ[env_name]
    for provider in (dlt.secrets, dlt.config):
        try:
            value = provider.get(dlt_key)
        except Exception:  # noqa: BLE001 - a missing or unreadable toml means "not set"
            value = None
        if value not in (None, ""):
            return str(value)
    return default


@dataclass(frozen=True)
class Settings:
    """Resolved configuration for one run. `repr` hides the API keys."""

    duckdb_path: Path
    dbt_target: str = "dev"
    coingecko_plan: str = "public"
    coingecko_base_url: str = COINGECKO_BASE_URLS["public"]
    coingecko_api_key: str | None = field(default=None, repr=False)
    alpha_vantage_base_url: str = ALPHA_VANTAGE_BASE_URL
    alpha_vantage_api_key: str | None = field(default=None, repr=False)
    alpha_vantage_function: str = "TIME_SERIES_DAILY_ADJUSTED"
    fear_greed_base_url: str = FEAR_GREED_BASE_URL
    history_days: int = 365
    lag_days: int = 3
    backoff_factor: float = 1.0
    request_timeout: float = 30.0
    workers: int = 4
    # Processes parsing large payloads beside the fetching one; 0 parses in the fetching threads.
    # Off by default: no measured gain on the 2-core bench machine (extract/parsing.py, docs/performance.md).
    parse_processes: int = 0
    budgets: dict[str, dict[str, int | None]] = field(default_factory=dict)
    pipelines_dir: Path | None = None

    @property
    def destination(self) -> str:
        """dlt destination name matching the dbt target."""
        return "postgres" if self.dbt_target == "postgres" else "duckdb"

    def with_overrides(self, **changes) -> Settings:
        return replace(self, **changes)

    def budget(self, provider: str) -> tuple[int | None, int | None]:
        """(calls per minute, calls per day) for a provider; configured or the plan's default."""
        plan = {"coingecko": self.coingecko_plan, "alpha_vantage": self.alpha_vantage_function}.get(provider)
        per_minute, per_day = DEFAULT_BUDGETS.get((provider, plan), (None, None))
        configured = self.budgets.get(provider, {})
        return configured.get("per_minute", per_minute), configured.get("per_day", per_day)

    @classmethod
    def from_env(cls) -> Settings:
        plan = (_lookup("COINGECKO_PLAN", "sources.coingecko.plan", "public") or "public").lower()
        if plan not in COINGECKO_PLANS:
            raise ValueError(f"COINGECKO_PLAN must be one of {', '.join(COINGECKO_PLANS)}, got {plan!r}")
        duckdb_path = Path(_lookup("DUCKDB_PATH", "destination.duckdb.path", "data/warehouse.duckdb"))
        pipelines_dir = _lookup("DLT_DATA_DIR", "runtime.pipelines_dir")
        return cls(
            duckdb_path=duckdb_path.expanduser().resolve(),
            dbt_target=_lookup("DBT_TARGET", "runtime.dbt_target", "dev"),
            coingecko_plan=plan,
            coingecko_base_url=_lookup(
                "SOURCES__COINGECKO__BASE_URL", "sources.coingecko.base_url", COINGECKO_BASE_URLS[plan]
            ).rstrip("/"),
            coingecko_api_key=_lookup("COINGECKO_API_KEY", "sources.coingecko.api_key"),
            alpha_vantage_base_url=_lookup(
                "SOURCES__ALPHA_VANTAGE__BASE_URL", "sources.alpha_vantage.base_url", ALPHA_VANTAGE_BASE_URL
            ).rstrip("/"),
            alpha_vantage_api_key=_lookup("ALPHAVANTAGE_API_KEY", "sources.alpha_vantage.api_key"),
            alpha_vantage_function=_lookup(
                "ALPHAVANTAGE_FUNCTION", "sources.alpha_vantage.function", "TIME_SERIES_DAILY_ADJUSTED"
            ),
            fear_greed_base_url=_lookup(
                "SOURCES__FEAR_GREED__BASE_URL", "sources.fear_greed.base_url", FEAR_GREED_BASE_URL
            ).rstrip("/"),
            history_days=int(_lookup("MARKET_ELT_HISTORY_DAYS", "runtime.history_days", "365")),
            lag_days=int(_lookup("MARKET_ELT_LAG_DAYS", "runtime.lag_days", "3")),
            backoff_factor=float(_lookup("MARKET_ELT_BACKOFF_FACTOR", "runtime.request_backoff_factor", "1.0")),
            request_timeout=float(_lookup("MARKET_ELT_REQUEST_TIMEOUT", "runtime.request_timeout", "30")),
            workers=int(_lookup("MARKET_ELT_WORKERS", "runtime.workers", "4")),
            parse_processes=int(_lookup("MARKET_ELT_PARSE_PROCESSES", "runtime.parse_processes", "0")),
            budgets=_configured_budgets(),
            pipelines_dir=Path(pipelines_dir).resolve() if pipelines_dir else None,
        )


def _optional_int(value: str | None) -> int | None:
    return None if value in (None, "", "none", "unlimited") else int(value)


def _configured_budgets() -> dict[str, dict[str, int | None]]:
    """Budgets set by the user, e.g. COINGECKO_CALLS_PER_MINUTE=30, ALPHAVANTAGE_CALLS_PER_DAY=25,
    FEAR_GREED_CALLS_PER_MINUTE (or `calls_per_minute` under [sources.<provider>] in config.toml).
    `unlimited` lifts a limit; anything unset keeps the plan's default."""
    budgets: dict[str, dict[str, int | None]] = {}
    for provider, env in (("coingecko", "COINGECKO"), ("alpha_vantage", "ALPHAVANTAGE"), ("fear_greed", "FEAR_GREED")):
        for window in ("minute", "day"):
            value = _lookup(f"{env}_CALLS_PER_{window.upper()}", f"sources.{provider}.calls_per_{window}")
            if value is not None:
                budgets.setdefault(provider, {})[f"per_{window}"] = _optional_int(value)
    return budgets
