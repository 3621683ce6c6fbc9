"""Extract + load into a real warehouse (DuckDB and Postgres) from the emulator over HTTP."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading

import dlt
import pytest

from extract.emulator.server import Fault
from extract.pipeline import Coordination, extract_provider, pipeline_for, provider_assets
from extract.registry import PROVIDERS
from flows.runtime.warehouse import query

RAW_KEYS = {
    "coingecko_market_chart": ("coin_id", "ts"),
    "coingecko_markets": ("id", "snapshot_date"),
    "alpha_vantage_daily": ("symbol", "date"),
    "fear_greed_index": ("timestamp",),
}


def _raw_counts(settings, tables=RAW_KEYS) -> dict[str, tuple[int, int]]:
    """Per raw table: (rows, distinct primary keys)."""
    counts = {}
    for table in tables:
        key = RAW_KEYS[table]
        columns = ", ".join(key)
        sql = f"select count(*), (select count(*) from (select distinct {columns} from raw.{table}) k) from raw.{table}"
        counts[table] = query(settings, sql)[0]
    return counts


def _extract_all(settings) -> dict:
    return {provider: extract_provider(provider, settings) for provider in PROVIDERS}


@pytest.mark.parametrize(
    "warehouse", ["duckdb_settings", pytest.param("postgres_settings", marks=pytest.mark.postgres)]
)
def test_extract_loads_every_provider_and_a_rerun_adds_no_duplicates(warehouse, request):
    settings = request.getfixturevalue(warehouse)
    first = _extract_all(settings)
    assert all(report.ok for report in first.values()), [r.summary_line() for r in first.values()]
    counts = _raw_counts(settings)
    assert all(rows == keys > 0 for rows, keys in counts.values()), counts
    coins = provider_assets("coingecko")
    assert counts["coingecko_markets"][0] == len(coins)
    assert query(settings, "select count(distinct coin_id) from raw.coingecko_market_chart")[0][0] == len(coins)

    second = _extract_all(settings)
    again = _raw_counts(settings)
    assert all(rows == keys for rows, keys in again.values()), again
    assert again["alpha_vantage_daily"] == counts["alpha_vantage_daily"]
    assert again["fear_greed_index"] == counts["fear_greed_index"]
    # The daily run re-fetches only the lag window: (lag + 1) days of hourly points per coin.
    coin_days = len(coins) * (settings.lag_days + 1)
    assert second["coingecko"].rows <= coin_days * 24 + 2 * len(coins) < first["coingecko"].rows


def test_one_failing_asset_does_not_stop_the_others(duckdb_settings, emulator):
    emulator.inject(Fault("coingecko", status=500, body=b"boom", path_contains="/coins/solana/"), times=20)
    try:
        report = extract_provider("coingecko", duckdb_settings)
    finally:
        emulator._faults.clear()
    assert set(report.failures) == {"solana"}
    assert "HTTP 500" in report.failures["solana"]
    loaded = {row[0] for row in query(duckdb_settings, "select distinct coin_id from raw.coingecko_market_chart")}
    assert loaded == set(provider_assets("coingecko")) - {"solana"}


def test_an_invalid_payload_is_reported_and_loaded_data_is_kept(duckdb_settings, emulator):
    extract_provider("alpha_vantage", duckdb_settings)
    before = query(duckdb_settings, "select count(*) from raw.alpha_vantage_daily where symbol = 'IBM'")[0][0]

    def corrupt_ibm(provider, path, params, body):
        if provider == "alpha_vantage" and params.get("symbol") == "IBM":
            newest = next(iter(body["Time Series (Daily)"]))
            body["Time Series (Daily)"][newest]["4. close"] = None
        return body

    emulator.payload_hooks.append(corrupt_ibm)
    try:
        report = extract_provider("alpha_vantage", duckdb_settings)
    finally:
        emulator.payload_hooks.remove(corrupt_ibm)
    assert list(report.failures) == ["IBM"]
    assert "'4. close'" in report.failures["IBM"] and "alpha_vantage asset 'IBM'" in report.failures["IBM"]
    after = query(duckdb_settings, "select count(*) from raw.alpha_vantage_daily where symbol = 'IBM'")[0][0]
    assert after == before
    assert report.assets_ok == len(provider_assets("alpha_vantage")) - 1


def test_the_api_key_never_reaches_the_warehouse_or_the_report(duckdb_settings, emulator):
    settings = duckdb_settings.with_overrides(alpha_vantage_api_key="SECRET-av-key-123")
    emulator.inject(Fault("alpha_vantage", status=200, body={"Error Message": "Invalid API call."}))
    report = extract_provider("alpha_vantage", settings)
    assert "SECRET" not in repr(settings) and "SECRET" not in report.summary_line()
    tables = query(settings, "select table_name from information_schema.tables where table_schema = 'raw'")
    for (table,) in tables:
        rows = query(settings, f"select * from raw.{table}")
        assert not any("SECRET" in str(value) for row in rows for value in row), table
    # dlt stores its state compressed in raw._dlt_pipeline_state: read it decoded.
    assert "SECRET" not in json.dumps(pipeline_for("alpha_vantage", settings).state, default=str)


def test_crypto_points_cover_the_configured_history(duckdb_settings):
    extract_provider("coingecko", duckdb_settings)
    today = dt.datetime.now(dt.UTC).date()
    first, last = query(duckdb_settings, "select min(point_date), max(point_date) from raw.coingecko_market_chart")[0]
    assert first == today - dt.timedelta(days=duckdb_settings.history_days)
    assert last == today


@pytest.mark.parametrize(
    ("warehouse", "file_format"),
    [("duckdb_settings", "parquet"), pytest.param("postgres_settings", "csv", marks=pytest.mark.postgres)],
)
def test_alpha_vantage_tables_load_in_a_format_the_warehouse_bulk_reads(warehouse, file_format, request):
    """Arrow tables must stay columnar to the warehouse (parquet for DuckDB, CSV for Postgres'
    COPY): a run-wide row format such as jsonl would turn them back into rows."""
    settings = request.getfixturevalue(warehouse)
    extract_provider("alpha_vantage", settings)
    info = pipeline_for("alpha_vantage", settings).last_trace.last_load_info
    formats = {
        job.job_file_info.file_format
        for package in info.load_packages
        for job in package.jobs["completed_jobs"]
        if job.job_file_info.table_name == "alpha_vantage_daily" and job.job_file_info.file_format != "sql"
    }
    assert formats == {file_format}


def _load_dispositions(provider: str, settings) -> dict[str, str]:
    """The write disposition each table of the provider's last load was loaded with."""
    info = pipeline_for(provider, settings).last_trace.last_load_info
    return {
        table["name"]: table["write_disposition"]
        for package in info.load_packages
        for table in package.schema.data_tables()
    }


@pytest.mark.parametrize(
    "warehouse", ["duckdb_settings", pytest.param("postgres_settings", marks=pytest.mark.postgres)]
)
def test_a_first_load_appends_and_every_later_load_merges(warehouse, request, tmp_path):
    """A raw table's first load has nothing to merge with: it is appended (no staging copy);
    once the table exists, loads merge again and keys stay unique, also when the local
    pipeline state is gone. Resources that do not declare unique keys always merge."""
    settings = request.getfixturevalue(warehouse).with_overrides(alpha_vantage_api_key="premium-key")
    bars = lambda: _raw_counts(settings, ["alpha_vantage_daily"])["alpha_vantage_daily"]  # noqa: E731
    symbols = provider_assets("alpha_vantage")
    extract_provider("alpha_vantage", settings, assets=symbols[:2])
    assert _load_dispositions("alpha_vantage", settings) == {"alpha_vantage_daily": "append"}
    staged = "select count(*) from information_schema.tables where table_schema = 'raw_staging'"
    assert query(settings, staged)[0][0] == 0
    first = bars()

    report = extract_provider("alpha_vantage", settings)  # the two again (lag window) and the rest
    assert report.ok and _load_dispositions("alpha_vantage", settings) == {"alpha_vantage_daily": "merge"}
    rows, keys = bars()
    assert rows == keys > first[0]

    elsewhere = settings.with_overrides(pipelines_dir=tmp_path / "other-dlt")
    assert extract_provider("alpha_vantage", elsewhere).ok
    assert _load_dispositions("alpha_vantage", elsewhere) == {"alpha_vantage_daily": "merge"}
    assert bars() == (rows, keys)

    extract_provider("fear_greed", settings)
    assert _load_dispositions("fear_greed", settings) == {"fear_greed_index": "merge"}


def test_alpha_vantage_rows_and_cursors_do_not_depend_on_the_batch_size(duckdb_settings, tmp_path, monkeypatch):
    """Symbols reach dlt several to an item; every size loads the same rows and cursors."""
    import extract.alpha_vantage as av

    extract_provider("alpha_vantage", duckdb_settings)
    monkeypatch.setattr(av, "BATCH_ROWS", 1)
    one_by_one = duckdb_settings.with_overrides(duckdb_path=tmp_path / "one.duckdb", pipelines_dir=tmp_path / "one")
    extract_provider("alpha_vantage", one_by_one)
    bars = "select symbol, date, _4_close, _dlt_load_id is not null from raw.alpha_vantage_daily order by 1, 2"
    assert query(one_by_one, bars) == query(duckdb_settings, bars)
    state = lambda s: pipeline_for("alpha_vantage", s).state["sources"]["alpha_vantage"]["resources"]  # noqa: E731
    assert state(one_by_one) == state(duckdb_settings)


@pytest.mark.postgres
def test_a_merging_load_into_postgres_takes_the_writer_lock(postgres_settings, monkeypatch):
    """A merge stages its rows in `raw_staging`, which each load empties: two batches of one
    provider merging at once (on Dask) would lose one's rows, so a merging load takes turns like
    one that creates tables; each run's load here happens inside the writer lock."""
    inside = threading.local()

    @contextlib.contextmanager
    def writer():
        inside.held = True
        try:
            yield
        finally:
            inside.held = False

    loads = []
    original = dlt.Pipeline.load

    def load(self, *args, **kwargs):
        loads.append(getattr(inside, "held", False))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(dlt.Pipeline, "load", load)
    coordination = Coordination(writer=writer)
    assert extract_provider("fear_greed", postgres_settings, coordination=coordination).ok  # creates its table
    assert extract_provider("fear_greed", postgres_settings, coordination=coordination).ok  # merges into it
    assert loads == [True, True]
