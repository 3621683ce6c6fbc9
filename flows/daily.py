"""The daily flow: extract every provider, then dbt seed + run, then dbt test.

One provider's failure (or one asset's) does not stop the others or the transform: dbt
still builds from what is in raw. The flow run fails at the end, with the summary, when
anything failed, so schedulers and the CLI see a non-zero outcome.
"""

from __future__ import annotations

from prefect import flow

from extract.pipeline import PROVIDERS
from extract.settings import Settings
from flows.offline import provider_settings
from flows.summary import RunSummary
from flows.tasks import collect, extract, run_transform


@flow(name="market-elt-daily", log_prints=True)
def daily(offline: bool = False, providers: list[str] | None = None, transform: bool = True) -> RunSummary:
    """Extract -> dbt seed/run -> dbt test. `offline` serves every provider from the emulator."""
    summary = RunSummary()
    with provider_settings(Settings.from_env(), offline) as settings:
        for provider in PROVIDERS if providers is None else providers:
            collect(summary, provider, extract(provider, settings, return_state=True))
    if transform:
        run_transform(settings, summary)
    print(summary.text())
    summary.raise_if_failed()
    return summary
