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

BUDGET_WINDOWS = ("second", "minute", "day", "month")
TASK_RUNNERS = ("thread", "dask")
# A provider's budget with every limit lifted (the offline emulator, benchmarks).
NO_LIMITS = {f"per_{window}": None for window in BUDGET_WINDOWS}


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
class PostgresSettings:
    """The Postgres warehouse, from the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
    PGDATABASE): dlt, dbt (profiles.yml), the ledger and the CLI's queries all connect with these."""

    host: str = "localhost"
    port: int = 5432
    user: str = "postgres"
    password: str | None = field(default=None, repr=False)
    dbname: str = "postgres"

    @classmethod
    def from_env(cls) -> PostgresSettings:
        return cls(
            host=os.environ.get("PGHOST") or "localhost",
            port=int(os.environ.get("PGPORT") or 5432),
            user=os.environ.get("PGUSER") or "postgres",
            password=os.environ.get("PGPASSWORD") or None,
            dbname=os.environ.get("PGDATABASE") or "postgres",
        )

    def connect_kwargs(self) -> dict[str, object]:
        """Keyword arguments of psycopg2.connect."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": self.dbname,
        }

    def environ(self) -> dict[str, str]:
        """The libpq variables, for dbt's profiles.yml."""
        return {
            "PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user,
            "PGPASSWORD": self.password or "", "PGDATABASE": self.dbname,
        }  # fmt: skip


@dataclass(frozen=True)
class Settings:
    """Resolved configuration for one run. `repr` hides the API keys."""

    duckdb_path: Path
    dbt_target: str = "dev"
    coingecko_plan: str = "public"
    # Base URLs: None means the provider's own (for CoinGecko, its plan's host).
    coingecko_base_url: str | None = None
    coingecko_api_key: str | None = field(default=None, repr=False)
    # Why this CoinGecko plan (a key without COINGECKO_PLAN is taken as demo, and the run says so).
    coingecko_plan_note: str | None = None
    alpha_vantage_base_url: str | None = None
    alpha_vantage_api_key: str | None = field(default=None, repr=False)
    # None: learned from the provider's answers and remembered (extract/alpha_vantage).
    alpha_vantage_plan: str | None = None
    fear_greed_base_url: str | None = None
    alpaca_base_url: str | None = None
    alpaca_api_key_id: str | None = field(default=None, repr=False)
    alpaca_api_secret_key: str | None = field(default=None, repr=False)
    alpaca_feed: str = "iex"
    # `free` (Basic) or `plus` (Algo Trader Plus): the call budget (extract/alpaca/settings.py).
    alpaca_plan: str = "free"
    history_days: int = 365
    lag_days: int = 3
    backoff_factor: float = 1.0
    request_timeout: float = 30.0
    workers: int = 4
    # Seconds a run waits for the warehouse while another run holds it; 0 refuses at once.
    lock_timeout: float = 600.0
    budgets: dict[str, dict[str, int | None]] = field(default_factory=dict)
    pipelines_dir: Path | None = None
    postgres: PostgresSettings = field(default_factory=PostgresSettings.from_env)
    # The dbt project (its seeds hold the universe): the repository's, or a copy of it.
    dbt_project_dir: Path = DBT_PROJECT_DIR
    # The Parquet lake of intraday bars; None: `lake` beside the DuckDB file.
    lake_root: Path | None = None
    # Alpaca timeframes (`1Min`, `1Hour`) the daily run extends in the lake; none by default.
    lake_timeframes: tuple[str, ...] = ()
    # Where extraction tasks run: `thread` (the flow's process) or `dask` (flows/runtime/task_runner.py).
    task_runner: str = "thread"
    # The dask.distributed scheduler to use; None: a LocalCluster started for the run.
    dask_scheduler_address: str | None = None
    # Assets per extraction task on the dask runner: a provider serving more is split into batches.
    batch_assets: int = 500
    # DBT_TARGET=spark: the Spark master (local[N], or a cluster's spark://host:7077) and the
    # directory of its warehouse (tables, metastore, and `raw` as dlt's Parquet files);
    # None: `spark` beside the DuckDB file.
    spark_master: str = "local[2]"
    spark_root: Path | None = None

    @property
    def lake_dir(self) -> Path:
        return self.lake_root or self.duckdb_path.parent / "lake"

    @property
    def spark_dir(self) -> Path:
        return self.spark_root or self.duckdb_path.parent / "spark"

    @property
    def assets_csv(self) -> Path:
        return self.dbt_project_dir / "seeds" / "assets.csv"

    @property
    def dlt_dir(self) -> Path:
        """Where dlt keeps pipeline state (and the call ledger beside it, on DuckDB)."""
        return self.pipelines_dir or self.duckdb_path.parent / "dlt"

    @property
    def destination(self) -> str:
        """The warehouse kind matching the dbt target: `duckdb`, `postgres` or `spark` (where dlt
        writes `raw` as Parquet files through its filesystem destination: extract/pipeline.py)."""
        return self.dbt_target if self.dbt_target in ("postgres", "spark") else "duckdb"

    def with_overrides(self, **changes) -> Settings:
        return replace(self, **changes)

    def budget_limits(self, provider: str, plan_limits: dict[str, int | None]) -> dict[str, float | int | None]:
        """A provider's call limits: its plan's (`plan_limits`, from the provider's settings),
        then whatever the user set."""
        defaults = {"per_second": None, "per_minute": None, "per_day": None, "per_month": None, "window_seconds": 60.0}
        return defaults | plan_limits | self.budgets.get(provider, {})

    @classmethod
    def from_env(cls) -> Settings:
        # Imported here: the provider packages import this module.
        from extract.alpaca.settings import DEFAULT_FEED, DEFAULT_PLAN, FEEDS
        from extract.alpaca.settings import PLANS as ALPACA_PLANS
        from extract.alpha_vantage.settings import PLANS as AV_PLANS
        from extract.coingecko.settings import PLANS as CG_PLANS

        key = _lookup("COINGECKO_API_KEY", "sources.coingecko.api_key")
        plan = _lookup("COINGECKO_PLAN", "sources.coingecko.plan")
        note = None
        if plan is None:
            plan = "demo" if key else "public"
            if key:
                note = "COINGECKO_API_KEY is set without COINGECKO_PLAN: taken as a demo key (set COINGECKO_PLAN)"
        plan = plan.lower()
        if plan not in CG_PLANS:
            raise ValueError(f"COINGECKO_PLAN must be one of {', '.join(CG_PLANS)}, got {plan!r}")
        if plan != "public" and not key:
            raise ValueError(f"COINGECKO_PLAN={plan} needs COINGECKO_API_KEY")
        av_plan = _lookup("ALPHAVANTAGE_PLAN", "sources.alpha_vantage.plan")
        if av_plan is not None and av_plan.lower() not in AV_PLANS:
            raise ValueError(f"ALPHAVANTAGE_PLAN must be one of {', '.join(AV_PLANS)} (or unset), got {av_plan!r}")
        alpaca_feed = _lookup("ALPACA_FEED", "sources.alpaca.feed", DEFAULT_FEED).lower()
        if alpaca_feed not in FEEDS:
            raise ValueError(f"ALPACA_FEED must be one of {', '.join(FEEDS)}, got {alpaca_feed!r}")
        alpaca_plan = _lookup("ALPACA_PLAN", "sources.alpaca.plan", DEFAULT_PLAN).lower()
        if alpaca_plan not in ALPACA_PLANS:
            raise ValueError(f"ALPACA_PLAN must be one of {', '.join(ALPACA_PLANS)}, got {alpaca_plan!r}")
        duckdb_path = Path(_lookup("DUCKDB_PATH", "destination.duckdb.path", "data/warehouse.duckdb"))
        pipelines_dir = _lookup("DLT_DATA_DIR", "runtime.pipelines_dir")
        lake = _lookup("MARKET_ELT_LAKE_DIR", "runtime.lake_dir")
        spark_dir = _lookup("MARKET_ELT_SPARK_DIR", "runtime.spark_dir")
        timeframes = tuple(
            t.strip()
            for t in _lookup("MARKET_ELT_LAKE_TIMEFRAMES", "runtime.lake_timeframes", "").split(",")
            if t.strip()
        )
        unknown = [t for t in timeframes if t not in ("1Min", "1Hour")]
        if unknown:
            raise ValueError(
                f"MARKET_ELT_LAKE_TIMEFRAMES: 1Min and/or 1Hour (comma-separated), got {', '.join(unknown)}"
            )
        task_runner = _lookup("MARKET_ELT_TASK_RUNNER", "runtime.task_runner", "thread").lower()
        if task_runner not in TASK_RUNNERS:
            raise ValueError(f"MARKET_ELT_TASK_RUNNER must be one of {', '.join(TASK_RUNNERS)}, got {task_runner!r}")
        batch_assets = int(_lookup("MARKET_ELT_BATCH_ASSETS", "runtime.batch_assets", "500"))
        if batch_assets < 1:
            raise ValueError(f"MARKET_ELT_BATCH_ASSETS must be at least 1, got {batch_assets}")
        return cls(
            duckdb_path=duckdb_path.expanduser().resolve(),
            dbt_target=_lookup("DBT_TARGET", "runtime.dbt_target", "dev"),
            coingecko_plan=plan,
            coingecko_base_url=_base_url("SOURCES__COINGECKO__BASE_URL", "sources.coingecko.base_url"),
            coingecko_api_key=key,
            coingecko_plan_note=note,
            alpha_vantage_base_url=_base_url("SOURCES__ALPHA_VANTAGE__BASE_URL", "sources.alpha_vantage.base_url"),
            alpha_vantage_api_key=_lookup("ALPHAVANTAGE_API_KEY", "sources.alpha_vantage.api_key"),
            alpha_vantage_plan=av_plan.lower() if av_plan else None,
            fear_greed_base_url=_base_url("SOURCES__FEAR_GREED__BASE_URL", "sources.fear_greed.base_url"),
            alpaca_base_url=_base_url("SOURCES__ALPACA__BASE_URL", "sources.alpaca.base_url"),
            alpaca_api_key_id=_lookup("ALPACA_API_KEY_ID", "sources.alpaca.api_key_id"),
            alpaca_api_secret_key=_lookup("ALPACA_API_SECRET_KEY", "sources.alpaca.api_secret_key"),
            alpaca_feed=alpaca_feed,
            alpaca_plan=alpaca_plan,
            history_days=int(_lookup("MARKET_ELT_HISTORY_DAYS", "runtime.history_days", "365")),
            lag_days=int(_lookup("MARKET_ELT_LAG_DAYS", "runtime.lag_days", "3")),
            backoff_factor=float(_lookup("MARKET_ELT_BACKOFF_FACTOR", "runtime.request_backoff_factor", "1.0")),
            request_timeout=float(_lookup("MARKET_ELT_REQUEST_TIMEOUT", "runtime.request_timeout", "30")),
            workers=int(_lookup("MARKET_ELT_WORKERS", "runtime.workers", "4")),
            lock_timeout=float(_lookup("MARKET_ELT_LOCK_TIMEOUT", "runtime.lock_timeout", "600")),
            dbt_project_dir=Path(_lookup("MARKET_ELT_DBT_PROJECT_DIR", "runtime.dbt_project_dir", str(DBT_PROJECT_DIR)))
            .expanduser()
            .resolve(),
            budgets=_configured_budgets(),
            pipelines_dir=Path(pipelines_dir).resolve() if pipelines_dir else None,
            lake_root=Path(lake).expanduser().resolve() if lake else None,
            lake_timeframes=timeframes,
            task_runner=task_runner,
            dask_scheduler_address=_lookup("DASK_SCHEDULER_ADDRESS", "runtime.dask_scheduler_address"),
            batch_assets=batch_assets,
            spark_master=_lookup("SPARK_MASTER", "runtime.spark_master", "local[2]"),
            spark_root=Path(spark_dir).expanduser().resolve() if spark_dir else None,
        )


def _base_url(env_name: str, dlt_key: str) -> str | None:
    value = _lookup(env_name, dlt_key)
    return value.rstrip("/") if value else None


def _optional_int(value: str | None) -> int | None:
    return None if value in (None, "", "none", "unlimited") else int(value)


def _configured_budgets() -> dict[str, dict[str, int | None]]:
    """Budgets set by the user, e.g. COINGECKO_CALLS_PER_MINUTE=30, ALPHAVANTAGE_CALLS_PER_DAY=25,
    COINGECKO_CALLS_PER_MONTH, ALPHAVANTAGE_CALLS_PER_SECOND, ALPACA_CALLS_PER_MINUTE (or `calls_per_minute` under
    [sources.<provider>] in config.toml). `unlimited` lifts a limit; anything unset keeps the plan's."""
    from extract.registry import PROVIDERS  # the provider packages import this module

    budgets: dict[str, dict[str, int | None]] = {}
    for provider, spec in PROVIDERS.items():
        for window in BUDGET_WINDOWS:
            value = _lookup(f"{spec.env_prefix}_CALLS_PER_{window.upper()}", f"sources.{provider}.calls_per_{window}")
            if value is not None:
                budgets.setdefault(provider, {})[f"per_{window}"] = _optional_int(value)
    return budgets
