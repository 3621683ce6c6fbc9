"""Batches of a provider's assets run apart (extract/batches.py): their dlt state changes merge
into the provider's state as if one run had made them, and their reports into one report."""

from __future__ import annotations

import copy
import datetime as dt
import pickle

from extract.batches import apply_changes, split, state_changes
from extract.report import ProviderReport

BASE = {
    "coingecko": {
        "resources": {
            "coingecko_market_chart": {
                "complete_through": {"bitcoin": "2026-12-01", "ethereum": "2026-12-01", "solana": "2026-12-01"},
                "backfills": {"2025-01-01..2025-02-01": ["bitcoin"]},
            }
        }
    }
}


def _batch(state: dict, cursors: dict[str, str], finished: list[str]) -> dict:
    """What a batch leaves: its assets' cursors moved, its finished assets appended."""
    state = copy.deepcopy(state)
    chart = state["coingecko"]["resources"]["coingecko_market_chart"]
    chart["complete_through"].update(cursors)
    chart["backfills"]["2025-01-01..2025-02-01"].extend(finished)
    return state


def test_batches_started_from_one_state_merge_into_the_state_one_run_would_leave():
    first = _batch(BASE, {"bitcoin": "2026-12-06", "ethereum": "2026-12-06"}, ["ethereum"])
    second = _batch(BASE, {"solana": "2026-12-06", "cardano": "2026-12-06"}, ["solana"])
    # What the warehouse holds last: the second batch's own commit (base + its progress only).
    merged = copy.deepcopy(second)
    for batch in (first, second):
        apply_changes(merged, state_changes(BASE, batch))
    chart = merged["coingecko"]["resources"]["coingecko_market_chart"]
    assert chart["complete_through"] == {
        "bitcoin": "2026-12-06", "ethereum": "2026-12-06", "solana": "2026-12-06", "cardano": "2026-12-06",
    }  # fmt: skip
    assert chart["backfills"] == {"2025-01-01..2025-02-01": ["bitcoin", "solana", "ethereum"]}


def test_a_batch_that_changed_nothing_has_no_changes_and_new_sections_arrive_whole():
    assert state_changes(BASE, copy.deepcopy(BASE)) == {}
    learned = copy.deepcopy(BASE)
    plan = {"plan": "free", "checked": "2026-12-07"}
    learned["alpha_vantage"] = {"resources": {"alpha_vantage_daily": {"plan": plan}}}
    assert state_changes(BASE, learned) == {"alpha_vantage": learned["alpha_vantage"]}
    target = copy.deepcopy(BASE)
    apply_changes(target, state_changes(BASE, learned))
    assert target == learned


def test_split_keeps_the_order_and_every_asset_once():
    assets = [f"a{i}" for i in range(7)]
    assert split(assets, 3) == [["a0", "a1", "a2"], ["a3", "a4", "a5"], ["a6"]]
    assert split([], 3) == []


def test_batch_reports_add_up_to_one_report_with_the_latest_budget():
    day = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
    first, second = ProviderReport("coingecko"), ProviderReport("coingecko")
    first.calls, first.rows, first.assets_ok, first.finished = 4, 100, 3, day
    first.fail("solana", "HTTP 500")
    first.record_budget({"month": (85, 100, False)})
    second.calls, second.rows, second.assets_ok, second.finished = 5, 120, 2, day + dt.timedelta(seconds=1)
    second.defer("dogecoin", "day budget spent")
    second.warn("alpaca: bars of symbols not asked for were ignored: X")
    second.record_budget({"month": (90, 100, False)})

    merged = ProviderReport("coingecko")
    for batch in (second, pickle.loads(pickle.dumps(first))):  # reports travel between processes
        merged.absorb(batch)
    assert (merged.calls, merged.rows, merged.assets_ok) == (9, 220, 5)
    assert merged.failures == {"solana": "HTTP 500"} and merged.deferred == {"dogecoin": "day budget spent"}
    assert merged.budget == {"month": (90, 100, False)}, "the batch that finished last"
    assert merged.warnings == [
        "alpaca: bars of symbols not asked for were ignored: X",
        "coingecko: 90 of this month's 100 calls used (90%)",
    ]
    merged.warn("again")  # the lock came back with the unpickled report
