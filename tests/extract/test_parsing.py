"""Payloads parsed in worker processes: same tables, same errors, and a broken pool degrades to
parsing in-process."""

from __future__ import annotations

import json
import os
import pickle

import pytest

from extract import parsing
from extract.alpha_vantage import body_table
from extract.errors import PayloadError, PlanError, ProviderError
from extract.parsing import ParsePool

FULL_IBM = "time_series_daily_adjusted_IBM_full_TRUNCATED_2rows_2020-05-08.json"
ADJUSTED = "TIME_SERIES_DAILY_ADJUSTED"


@pytest.fixture
def pool(monkeypatch):
    monkeypatch.setattr(parsing, "MIN_POOL_BYTES", 0)  # the recorded payloads are small
    with ParsePool(1) as running:
        yield running


def _body(provider_fixtures, change=None) -> bytes:
    payload = json.loads((provider_fixtures / "alpha_vantage" / FULL_IBM).read_text())
    if change:
        payload["Time Series (Daily)"]["2020-05-07"].update(change)
    return json.dumps(payload).encode()


class UnpicklableError(Exception):
    def __init__(self, detail: str, extra: str) -> None:  # pickling calls __init__(message): TypeError
        super().__init__(f"{detail} {extra}")


def raise_unpicklable(body: bytes) -> None:
    raise UnpicklableError("bad", "luck")


def die_in_a_worker(body: bytes, parent: int) -> str:
    if os.getpid() != parent:
        os._exit(3)
    return "parsed in-process"


@pytest.mark.parametrize("error", [ProviderError, PayloadError, PlanError])
def test_provider_errors_pickle_with_provider_asset_and_field(error):
    original = error("alpha_vantage", "IBM", "2020-05-07: expected a numeric string, got 'n/a'", "4. close")
    copy = pickle.loads(pickle.dumps(original))
    assert type(copy) is error and str(copy) == str(original)
    assert (copy.provider, copy.asset, copy.reason, copy.field) == (
        original.provider,
        original.asset,
        original.reason,
        original.field,
    )


def test_a_worker_builds_the_same_table_as_the_fetching_thread(provider_fixtures, pool):
    body = _body(provider_fixtures)
    pooled = pool.run(body_table, body, "IBM", ADJUSTED, None, None, None)
    local = body_table(body, "IBM", ADJUSTED, None, None, None)
    assert pool._executor is not None  # it did go through the pool
    assert pooled.drop_columns("_dlt_id").equals(local.drop_columns("_dlt_id"))
    assert pooled.schema.equals(local.schema) and pooled.num_rows == 2


def test_a_bad_payload_in_a_worker_names_the_symbol_day_and_field(provider_fixtures, pool):
    with pytest.raises(PayloadError) as caught:
        pool.run(body_table, _body(provider_fixtures, {"4. close": "n/a"}), "IBM", ADJUSTED, None, None, None)
    assert (caught.value.provider, caught.value.asset, caught.value.field) == ("alpha_vantage", "IBM", "4. close")
    assert "alpha_vantage asset 'IBM': 2020-05-07: expected a numeric string, got 'n/a'" in str(caught.value)


def test_orjson_refusing_a_body_is_left_to_the_lenient_decoder(pool):
    assert pool.run(body_table, b'{"Meta Data": NaN}', "IBM", ADJUSTED, None, None, None) is None


def test_an_exception_that_cannot_travel_comes_back_with_its_type_and_message(pool):
    """... and the pool keeps working (an unpicklable exception would otherwise break it)."""
    with pytest.raises(RuntimeError, match="UnpicklableError: bad luck"):
        pool.run(raise_unpicklable, b"{}")
    assert not pool._broken
    with pytest.raises(PayloadError, match="expected an object, got list"):
        pool.run(body_table, b"[]", "IBM", ADJUSTED, None, None, None)


def test_a_broken_pool_parses_in_process_from_then_on(pool):
    assert pool.run(die_in_a_worker, b"{}", os.getpid()) == "parsed in-process"
    assert pool.run(die_in_a_worker, b"{}", os.getpid()) == "parsed in-process"
    assert pool._broken


def test_small_bodies_and_zero_processes_parse_in_process(provider_fixtures):
    with ParsePool(0) as none:
        assert none.run(die_in_a_worker, b"{}" * 100_000, os.getpid()) == "parsed in-process"
        assert none._executor is None
    with ParsePool(1) as lazy:
        assert lazy.run(die_in_a_worker, b"{}", os.getpid()) == "parsed in-process"
        assert lazy._executor is None  # never started for small bodies


def test_a_few_tasks_are_not_worth_starting_a_process(monkeypatch):
    monkeypatch.setattr(parsing, "MIN_POOL_BYTES", 0)
    with ParsePool(1, tasks=parsing.MIN_POOL_TASKS - 1) as few:
        assert few.run(die_in_a_worker, b"{}", os.getpid()) == "parsed in-process"
        assert few._executor is None
