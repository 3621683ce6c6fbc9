"""Alpha Vantage parsing on the real recorded payloads, and HTTP-200 body classification."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import requests

from extract.alpha_vantage import body_table
from extract.alpha_vantage.helpers import daily_table, is_retried_notice, row_ids, typed_daily_table
from extract.errors import PayloadError, PlanError, ProviderError


def _load(provider_fixtures, name):
    return json.loads((provider_fixtures / "alpha_vantage" / name).read_text())


def _response(body: dict) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps(body).encode()
    return response


def test_real_adjusted_series_keeps_the_providers_strings(provider_fixtures):
    payload = _load(provider_fixtures, "time_series_daily_adjusted_AAPL_compact_100rows_2021-07-23.json")
    rows = daily_table(payload, "AAPL", "TIME_SERIES_DAILY_ADJUSTED").to_pylist()
    assert len(rows) == 100
    dividend = next(row for row in rows if row["date"] == dt.date(2021, 5, 7))
    assert dividend["7. dividend amount"] == "0.2200"
    assert rows[0]["4. close"] == "148.56" and rows[0]["last_refreshed"] == "2021-07-23"


def test_real_plain_daily_series_parses(provider_fixtures):
    payload = _load(provider_fixtures, "time_series_daily_MSFT_compact_TRUNCATED_3rows_2018-05-10T13-58.json")
    rows = daily_table(payload, "MSFT", "TIME_SERIES_DAILY").to_pylist()
    assert [row["date"] for row in rows] == [dt.date(2018, 5, 10), dt.date(2018, 5, 9), dt.date(2018, 5, 8)]
    assert rows[0]["5. volume"] == "12229563" and rows[0]["last_refreshed"] == "2018-05-10 13:58:33"


@pytest.mark.parametrize(
    ("name", "error", "words"),
    [
        ("error_message_invalid_api_call_TIME_SERIES_DAILY_ADJUSTED.json", ProviderError, "Invalid API call"),
        ("information_premium_endpoint_TIME_SERIES_DAILY_ADJUSTED_2022-03-16.json", PlanError, "needs a premium plan"),
        ("note_rate_limit_5_per_minute_2018.json", ProviderError, "throttled"),
        ("information_legacy_rate_limit_2018.json", ProviderError, "throttled"),
    ],
)
def test_real_http_200_bodies_are_classified_never_loaded(provider_fixtures, name, error, words):
    with pytest.raises(error, match=words) as caught:
        daily_table(_load(provider_fixtures, name), "GME", "TIME_SERIES_DAILY_ADJUSTED")
    assert "alpha_vantage asset 'GME'" in str(caught.value)


def test_only_throttling_bodies_are_retried(provider_fixtures):
    assert is_retried_notice(_response(_load(provider_fixtures, "note_rate_limit_5_per_minute_2018.json")))
    assert is_retried_notice(_response(_load(provider_fixtures, "information_legacy_rate_limit_2018.json")))
    premium = _load(provider_fixtures, "information_premium_endpoint_TIME_SERIES_DAILY_ADJUSTED_2022-03-16.json")
    assert not is_retried_notice(_response(premium))
    invalid = _load(provider_fixtures, "error_message_invalid_api_call_TIME_SERIES_DAILY_ADJUSTED.json")
    assert not is_retried_notice(_response(invalid))


def test_a_non_numeric_price_names_the_symbol_and_field(provider_fixtures):
    payload = _load(provider_fixtures, "time_series_daily_adjusted_IBM_full_TRUNCATED_2rows_2020-05-08.json")
    payload["Time Series (Daily)"]["2020-05-07"]["4. close"] = "n/a"
    with pytest.raises(PayloadError, match=r"alpha_vantage asset 'IBM': 2020-05-07.*'4\. close'"):
        daily_table(payload, "IBM", "TIME_SERIES_DAILY_ADJUSTED")


@pytest.mark.parametrize(
    ("day", "change", "words", "field"),
    [
        ("2020-05-07", {"6. volume": None}, "2020-05-07: expected a numeric string, got None", "6. volume"),
        ("2020-05-07", {"2. high": 135.5}, "2020-05-07: expected a numeric string, got 135.5", "2. high"),
        ("2020-05-07", {"1. open": "1e"}, "2020-05-07: expected a numeric string, got '1e'", "1. open"),
        # The column check joins a field's values with this character: a value holding it.
        ("2020-05-07", {"3. low": "1\x1f2"}, "2020-05-07: expected a numeric string, got '1\\x1f2'", "3. low"),
        ("2020-05-07", {"4. close": "\u0661\u0662"}, "expected a numeric string, got '\u0661\u0662'", "4. close"),
        ("2020-05-07", {"4. close": "12\n"}, "2020-05-07: expected a numeric string, got '12\\n'", "4. close"),
        ("2020-05-07", {"4. close": ""}, "2020-05-07: expected a numeric string, got ''", "4. close"),
        ("2020-05-07", {"7. dividend amount": ["0"]}, "expected a numeric string, got ['0']", "7. dividend amount"),
        ("2020-05-07", "n/a", "2020-05-07: expected an object", "Time Series (Daily)"),
        ("2020-5-7", {}, "not a date: '2020-5-7'", "Time Series (Daily)"),
    ],
)
def test_every_bad_value_shape_names_the_day_and_field(provider_fixtures, day, change, words, field):
    """The column checks catch what the row-by-row reader would, with the same message."""
    payload = _load(provider_fixtures, "time_series_daily_adjusted_IBM_full_TRUNCATED_2rows_2020-05-08.json")
    series = payload["Time Series (Daily)"]
    good = series.pop("2020-05-07")
    series[day] = {**good, **change} if isinstance(change, dict) else change
    with pytest.raises(PayloadError) as caught:
        daily_table(payload, "IBM", "TIME_SERIES_DAILY_ADJUSTED")
    assert (caught.value.asset, caught.value.field) == ("IBM", field)
    assert words in str(caught.value)
    # The body as fetched: the typed decoder refuses it, and the same error comes back.
    body = json.dumps(payload).encode()
    assert typed_daily_table(body, "IBM", "TIME_SERIES_DAILY_ADJUSTED") is None
    with pytest.raises(PayloadError) as from_body:
        body_table(body, "IBM", "TIME_SERIES_DAILY_ADJUSTED")
    assert str(from_body.value) == str(caught.value) and from_body.value.field == field


@pytest.mark.parametrize(
    ("name", "function"),
    [
        ("time_series_daily_adjusted_AAPL_compact_100rows_2021-07-23.json", "TIME_SERIES_DAILY_ADJUSTED"),
        ("time_series_daily_adjusted_TSLA_compact_100rows_2021-07-23.json", "TIME_SERIES_DAILY_ADJUSTED"),
        ("time_series_daily_MSFT_compact_TRUNCATED_3rows_2018-05-10T13-58.json", "TIME_SERIES_DAILY"),
    ],
)
def test_the_typed_decoder_builds_the_same_table_from_the_real_bodies(provider_fixtures, name, function):
    body = (provider_fixtures / "alpha_vantage" / name).read_bytes()
    typed = typed_daily_table(body, "X", function)
    assert typed is not None and typed.num_rows >= 3
    assert typed.equals(daily_table(json.loads(body), "X", function))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # Extra fields in a day are ignored by both paths; a repeated date keeps its last value.
        (lambda p: p["Time Series (Daily)"]["2020-05-07"].update({"9. note": 1}), "table"),
        (lambda p: p.update({"Note": "Thank you for using Alpha Vantage!"}), "table"),
        (lambda p: p.update({"Error Message": "Invalid API call."}), ProviderError),
        (lambda p: p["Meta Data"].pop("3. Last Refreshed"), PayloadError),
        (lambda p: p["Time Series (Daily)"].update({"2020-05-07": None}), PayloadError),
        (lambda p: p.update({"Time Series (Daily)": []}), PayloadError),
    ],
)
def test_both_decoders_agree_on_unusual_bodies(provider_fixtures, change, expected):
    payload = _load(provider_fixtures, "time_series_daily_adjusted_IBM_full_TRUNCATED_2rows_2020-05-08.json")
    change(payload)
    body = json.dumps(payload).encode()
    if expected == "table":
        assert typed_daily_table(body, "IBM", "TIME_SERIES_DAILY_ADJUSTED").equals(
            daily_table(payload, "IBM", "TIME_SERIES_DAILY_ADJUSTED")
        )
        return
    assert typed_daily_table(body, "IBM", "TIME_SERIES_DAILY_ADJUSTED") is None
    with pytest.raises(expected) as general:
        daily_table(payload, "IBM", "TIME_SERIES_DAILY_ADJUSTED")
    with pytest.raises(expected) as from_body:
        body_table(body, "IBM", "TIME_SERIES_DAILY_ADJUSTED")
    assert str(from_body.value) == str(general.value)


def test_a_repeated_date_keeps_its_last_value_in_both_paths():
    day = (
        '{"1. open": "%s", "2. high": "2", "3. low": "1", "4. close": "1.5", "5. adjusted close": "1.5", '
        '"6. volume": "10", "7. dividend amount": "0.0000", "8. split coefficient": "1.0"}'
    )
    body = (
        '{"Meta Data": {"3. Last Refreshed": "2020-05-08"}, "Time Series (Daily)": '
        f'{{"2020-05-08": {day % "1.1"}, "2020-05-08": {day % "1.2"}}}}}'
    ).encode()
    typed = typed_daily_table(body, "IBM", "TIME_SERIES_DAILY_ADJUSTED")
    assert typed["1. open"].to_pylist() == ["1.2"]
    assert typed.equals(daily_table(json.loads(body), "IBM", "TIME_SERIES_DAILY_ADJUSTED"))


def test_row_ids_are_unique_random_base64_strings():
    ids = row_ids(10_000).to_pylist()
    assert len(set(ids)) == 10_000 and {len(i) for i in ids} == {16}
    assert all(re.fullmatch(r"[A-Za-z0-9+/]{16}", i) for i in ids)
    assert row_ids(0).to_pylist() == [] and set(row_ids(3).to_pylist()).isdisjoint(ids)
