"""The daily flow: extract every provider, then dbt seed + run, then dbt test.

One provider's failure (or one asset's) does not stop the others or the transform: dbt
still builds from what is in raw. The flow run fails at the end, with the summary, when
anything failed, so schedulers and the CLI see a non-zero outcome.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field

from prefect import flow, get_run_logger, task

from extract.emulator.server import Emulator
from extract.pipeline import PROVIDERS, extract_provider
from extract.report import ProviderReport
from extract.settings import Settings
from flows.dbt import DbtSummary, invoke_dbt
from flows.warehouse import marts_summary

OFFLINE_KEYS = {"coingecko_api_key": None, "alpha_vantage_api_key": "offline-demo-key"}
# The emulator enforces no limits unless asked to, so offline runs go as fast as it answers.
UNLIMITED = {provider: {"per_minute": None, "per_day": None} for provider in PROVIDERS}


class RunFailedError(RuntimeError):
    """Raised at the end of a run in which any provider, asset or dbt node failed."""


@dataclass
class RunSummary:
    providers: list[ProviderReport] = field(default_factory=list)
    dbt: list[DbtSummary] = field(default_factory=list)
    marts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and all(report.ok for report in self.providers)

    def text(self) -> str:
        lines = [report.summary_line() for report in self.providers]
        lines += [summary.line() for summary in self.dbt]
        lines += self.marts
        lines += [f"ERROR {error}" for error in self.errors]
        return "\n".join(lines)


@task(retries=2, retry_delay_seconds=5, task_run_name="extract-{provider}")
def extract(provider: str, settings: Settings) -> ProviderReport:
    """Extract and load one provider. Retried only when loading itself failed: per-asset
    failures are already isolated in the report, and merges make a retry idempotent."""
    report = extract_provider(provider, settings)
    get_run_logger().info(report.summary_line())
    return report


@task(task_run_name="dbt-{label}")
def dbt(command: list[str], settings: Settings, label: str) -> DbtSummary:
    summary = invoke_dbt(command, settings)
    get_run_logger().info(summary.line())
    return summary


def offline_settings(settings: Settings, emulator: Emulator) -> Settings:
    urls = emulator.base_urls()
    return settings.with_overrides(
        coingecko_plan="public",
        coingecko_base_url=urls["coingecko"],
        alpha_vantage_base_url=urls["alpha_vantage"],
        fear_greed_base_url=urls["fear_greed"],
        budgets=UNLIMITED,
        **OFFLINE_KEYS,
    )


@flow(name="market-elt-daily", log_prints=True)
def daily(offline: bool = False, providers: list[str] | None = None, transform: bool = True) -> RunSummary:
    """Extract -> dbt seed/run -> dbt test. `offline` serves every provider from the emulator."""
    settings = Settings.from_env()
    summary = RunSummary()
    with Emulator() if offline else contextlib.nullcontext() as emulator:
        if emulator is not None:
            settings = offline_settings(settings, emulator)
        for provider in providers or PROVIDERS:
            state = extract(provider, settings, return_state=True)
            if state.is_completed():
                summary.providers.append(state.result())
            else:
                summary.errors.append(f"{provider}: extract failed: {state.message}")
    if transform:
        run_transform(settings, summary)
    print(summary.text())
    if not summary.ok:
        finished = dt.datetime.now(dt.UTC)
        raise RunFailedError(f"run finished with failures at {finished:%Y-%m-%d %H:%M} UTC:\n{summary.text()}")
    return summary


def run_transform(settings: Settings, summary: RunSummary) -> None:
    """dbt seed + run, then dbt test; a failing step stops the steps after it."""
    for label, command in (("seed", ["seed"]), ("run", ["run"]), ("test", ["test"])):
        state = dbt(command, settings, label, return_state=True)
        if not state.is_completed():
            summary.errors.append(str(state.message))
            return
        summary.dbt.append(state.result())
    summary.marts, problems = marts_summary(settings)
    summary.errors.extend(problems)
