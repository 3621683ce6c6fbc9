"""Tests that cost what the day costs: a daily run's gates read only the assets and days the
build changed and did not publish yet (int_bar_changes), daily_bars publishes only those days
and ends bit-identical to the build, and `check --all` reads every row: a bad row outside the
day's changes is found by the weekly check, not by the daily gate. DuckDB and Postgres."""

from __future__ import annotations

import pytest

from extract.registry import PROVIDERS
from extract.settings import Settings
from flows.check import check
from flows.daily import daily
from flows.runtime.summary import RunFailedError
from flows.runtime.warehouse import execute, query
from tests.flows.loads import reload
from tests.flows.targets import TARGETS, use_warehouse
from tests.flows.test_gate import _restated

pytestmark = pytest.mark.slow
BAR_COLUMNS = (
    "asset_id, date, open, high, low, close, volume, dollar_volume, source, currency, "
    "adjusted_flag, adjustment, load_id"
)


def _symbol_ids(settings: Settings) -> dict[str, int]:
    return dict(query(settings, "select symbol, asset_id from assets"))


@pytest.mark.parametrize("target", TARGETS)
def test_a_daily_run_checks_and_publishes_its_changes_and_check_all_reads_everything(
    target, live_env, monkeypatch, request
):
    use_warehouse(target, monkeypatch, request)
    assert daily(providers=list(PROVIDERS)).ok
    settings = Settings.from_env()
    ids = _symbol_ids(settings)
    first = query(settings, "select count(*), count(distinct asset_id) from intermediate.int_bar_changes")[0]
    with_bars = query(settings, "select count(distinct asset_id) from daily_bars")[0][0]
    assert first[0] == first[1] == with_bars, "the first build changes every asset with bars"

    revised = query(settings, "select max(date) from raw.alpha_vantage_daily where symbol = 'IBM'")[0][0]
    ibm_revised = f"symbol = 'IBM' and date = '{revised}'"
    reload(
        settings,
        [f"update raw.alpha_vantage_daily set {_restated(settings)} where {ibm_revised}"],
        {"alpha_vantage_daily": ibm_revised},
    )
    assert daily(providers=[]).ok
    changes = query(settings, "select asset_id, changed_from, previous_bar_date from intermediate.int_bar_changes")
    assert [(asset, changed) for asset, changed, _ in changes] == [(ids["IBM"], revised)], "only the revised day"
    context_bars = query(
        settings,
        "select count(*) from daily_bars as b join intermediate.int_bar_changes as c using (asset_id) "
        "where b.date >= c.context_from and b.date < c.changed_from",
    )[0][0]
    earlier = query(settings, f"select count(*) from daily_bars where asset_id = {ids['IBM']} and date < '{revised}'")
    assert context_bars == min(61, earlier[0][0]), "the outlier window's 60 returns before the change: 61 bars"
    published = query(settings, f"select {BAR_COLUMNS} from daily_bars order by asset_id, date")
    built = query(settings, f"select {BAR_COLUMNS} from audit.daily_bars order by asset_id, date")
    assert published == built, "published by its changed days, daily_bars equals the build bit for bit"

    # A bad bar outside every change (written into the build, as a test changed after the
    # fact would find one): the change-scoped check passes, the check of everything names it.
    old = query(settings, "select min(date) from audit.daily_bars where asset_id = " + str(ids["MSFT"]))[0][0]
    execute(
        settings,
        [f"update intermediate.int_daily_bars set high = low / 2 where asset_id = {ids['MSFT']} and date = '{old}'"],
    )
    assert check(check_all=False).ok, "the daily scope does not read MSFT's unchanged history"
    with pytest.raises(RunFailedError) as failed:
        check(check_all=True)
    message = str(failed.value)
    assert f"check: MSFT (asset {ids['MSFT']}): daily_bars_ohlc_in_order" in message, message
    assert query(settings, f"select count(*) from daily_bars where asset_id = {ids['MSFT']} and high < low")[0][0] == 0
