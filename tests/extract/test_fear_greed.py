"""Fear & Greed parsing on the real recorded payload."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from extract.errors import PayloadError
from extract.fear_greed import index_rows


def test_real_payload_parses_to_one_row_per_utc_day(provider_fixtures):
    path = provider_fixtures / "alternative_me_fng/fng_limit30_DERIVED_first30_of_2025-04-22_response.json"
    rows = index_rows(json.loads(path.read_text()))
    assert len(rows) == 30
    assert rows[0]["index_date"] == dt.date(2025, 4, 22) and rows[0]["value"] == "47"
    assert rows[-1]["index_date"] == dt.date(2025, 3, 24)


def test_a_numeric_value_instead_of_a_string_is_rejected():
    payload = {"name": "Fear and Greed Index", "data": [{"value": 47, "timestamp": "1745280000"}], "metadata": {}}
    with pytest.raises(PayloadError, match=r"fear_greed asset 'fear_greed_index'.*'value'"):
        index_rows(payload)
