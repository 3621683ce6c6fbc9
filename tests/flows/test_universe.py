"""`market-elt universe add --from-csv`: a constituents file appended to a copy of the universe
with the next ids, symbols already there named and not added twice, a file listing a symbol
twice refused whole, index membership recorded once with its first date; the result loads."""

from __future__ import annotations

import shutil

import pytest

from extract.assets import load_assets
from extract.settings import DBT_PROJECT_DIR
from flows.commands.cli import main

CONSTITUENTS = (
    "Symbol,Security,GICS Sector\n"
    "AAPL,Apple Inc.,Information Technology\n"
    "brk.b,Berkshire Hathaway,Financials\n"
    "ZTS,Zoetis,Health Care\n"
)


@pytest.fixture
def universe(tmp_path, monkeypatch):
    seeds = tmp_path / "dbt_project" / "seeds"
    seeds.mkdir(parents=True)
    shutil.copy(DBT_PROJECT_DIR / "seeds" / "assets.csv", seeds / "assets.csv")
    monkeypatch.setenv("MARKET_ELT_DBT_PROJECT_DIR", str(tmp_path / "dbt_project"))
    monkeypatch.setenv("DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    return seeds


def test_universe_add_appends_new_equities_and_records_membership(universe, tmp_path, capsys):
    before = load_assets(universe / "assets.csv")
    apple = next(a for a in before if a.symbol == "AAPL")
    source = tmp_path / "sp500.csv"
    source.write_text(CONSTITUENTS)

    assert main(["universe", "add", "--from-csv", str(source), "--index", "SP500", "--date", "2026-11-02"]) == 0
    out = capsys.readouterr().out
    assert f"AAPL (asset_id {apple.asset_id})" in out and "added 2 asset(s)" in out
    after = load_assets(universe / "assets.csv")
    assert after[: len(before)] == before, "existing rows untouched"
    first = max(a.asset_id for a in before) + 1
    new = {a.symbol: a for a in after[len(before) :]}
    assert [(a.asset_id, a.symbol) for a in after[len(before) :]] == [(first, "BRK.B"), (first + 1, "ZTS")]
    assert new["ZTS"].name == "Zoetis" and new["ZTS"].alpaca_symbol == "ZTS" and new["ZTS"].alpha_vantage_symbol is None
    assert new["ZTS"].asset_type == "equity" and new["ZTS"].is_active and new["ZTS"].exchange == "XNYS"
    membership = (universe / "index_membership.csv").read_text().splitlines()
    assert membership == [
        "index_name,asset_id,symbol,date_added",
        f"SP500,{apple.asset_id},AAPL,2026-11-02",
        f"SP500,{first},BRK.B,2026-11-02",
        f"SP500,{first + 1},ZTS,2026-11-02",
    ]

    assert main(["universe", "add", "--from-csv", str(source), "--index", "SP500", "--date", "2026-12-01"]) == 0
    assert "added 0 asset(s)" in capsys.readouterr().out
    assert load_assets(universe / "assets.csv") == after, "a rerun adds nothing"
    assert (universe / "index_membership.csv").read_text().splitlines() == membership, "first dates kept"


def test_a_file_listing_a_symbol_twice_is_refused_whole(universe, tmp_path, capsys):
    original = (universe / "assets.csv").read_text()
    source = tmp_path / "bad.csv"
    source.write_text("Symbol,Security\nZTS,Zoetis\nXYL,Xylem\nzts,Zoetis again\n")
    assert main(["universe", "add", "--from-csv", str(source), "--index", "SP500"]) == 2
    error = capsys.readouterr().err
    assert "symbols listed twice, nothing added: ZTS (lines 2 and 4)" in error
    assert (universe / "assets.csv").read_text() == original
    assert not (universe / "index_membership.csv").exists()
    source.write_text("Security\nZoetis\n")
    assert main(["universe", "add", "--from-csv", str(source)]) == 2
    assert "no symbol column" in capsys.readouterr().err
