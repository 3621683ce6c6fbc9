"""What a person sees of a run: progress and a summary on a terminal, every log line elsewhere."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from extract.report import ProviderReport
from flows.runtime import console
from flows.runtime.dbt import DbtSummary
from flows.runtime.summary import RunSummary

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PROGRESS_REDRAW = re.compile(r"━.*\d+/\d+")  # a progress bar's frame: erased when it finishes


def _visible_lines(raw: str) -> list[str]:
    """The lines left on the screen: ANSI codes gone, progress frames (transient) dropped."""
    text = ANSI.sub("", raw.replace("\r\n", "\n"))
    return [line for line in text.split("\n") if line.strip() and not PROGRESS_REDRAW.search(line)]


def _run_on_a_terminal(args: list[str], cwd: Path, timeout: float = 300) -> tuple[int, str]:
    """Run the CLI with stdout and stderr on a pseudo-terminal, as a person at a shell does."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.commands.cli", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
        env={**os.environ, "COLUMNS": "100", "LINES": "40"},
    )
    os.close(terminal)
    chunks = []
    while True:
        ready, _, _ = select.select([controller], [], [], timeout)
        if not ready:
            process.kill()
            raise AssertionError(f"market-elt {' '.join(args)} printed nothing for {timeout} s")
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process is gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    return process.wait(timeout=30), b"".join(chunks).decode("utf-8", "replace")


def _fresh_project_env(tmp_path: Path, monkeypatch) -> None:
    for name in ("DUCKDB_PATH", "DLT_DATA_DIR", "DBT_TARGET", "MARKET_ELT_QUIET", "MARKET_ELT_LOG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DUCKDB_PATH", str(tmp_path / "data" / "warehouse.duckdb"))
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "data" / "dlt"))


@pytest.mark.slow
def test_the_offline_demo_on_a_terminal_fits_on_one_screen_and_logs_everything_to_a_file(tmp_path, monkeypatch):
    _fresh_project_env(tmp_path, monkeypatch)
    code, raw = _run_on_a_terminal(["run", "--offline"], tmp_path)
    lines = _visible_lines(raw)
    screen = "\n".join(lines)
    assert code == 0, screen
    assert len(lines) <= 35, f"{len(lines)} lines: a first-time user must not need to scroll\n{screen}"
    for provider in ("coingecko", "alpha_vantage", "fear_greed"):
        assert re.search(rf"^\s*{provider}\s*│", screen, re.MULTILINE), f"{provider} row in the summary table"
    assert re.search(r"^\s+dbt test \d+ pass", screen, re.MULTILINE), "each dbt step has its line"
    assert "Finished in state" not in screen, "Prefect's task lines stay in the log file"
    named = re.search(r"full log: (\S+\.log)", screen)
    assert named, f"the log file's path is printed\n{screen}"
    log = Path(named.group(1))
    logged = log.read_text()
    assert "Finished in state Completed" in logged, "Prefect's lines are in the log file"
    assert "dbt test:" in logged, "each dbt step's counts are in the log file"
    dbt_log = (log.parent / "dbt.log").read_text()
    assert "daily_features" in dbt_log, "dbt's per-node lines are in dbt's log beside it"


@pytest.mark.slow
def test_off_a_terminal_every_log_line_reaches_the_console(tmp_path, monkeypatch):
    """A scheduler or a pipe keeps the full log: nothing is hidden when nobody watches."""
    _fresh_project_env(tmp_path, monkeypatch)
    result = subprocess.run(
        [sys.executable, "-m", "flows.commands.cli", "extract", "--offline", "--providers", "fear_greed"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Finished in state Completed" in output, output
    assert re.search(r"^\s*fear_greed\s*│", output, re.MULTILINE), "the summary table ends the output"


def test_a_terminal_run_is_quiet_unless_verbose(tmp_path, monkeypatch):
    for name in (console.QUIET_VARIABLE, console.LOG_FILE_VARIABLE, "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    path = console.start(tmp_path / "logs", verbose=False)
    assert console.quiet() and console.log_file() == path
    assert os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] == "WARNING"
    monkeypatch.delenv("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL")
    console.start(tmp_path / "logs", verbose=True)
    assert not console.quiet(), "--verbose shows every line on the terminal too"
    assert "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL" not in os.environ


def _summary() -> RunSummary:
    failed = ProviderReport("alpha_vantage", calls=12, rows=900, assets_ok=8, plan="free (learned from the answer)")
    failed.fail("IBM", "alpha_vantage IBM: field '4. close' is not a number: 'n/a'")
    failed.note("AAPL", "daily history limited to 100 sessions")
    failed.note("MSFT", "daily history limited to 100 sessions")
    crypto = ProviderReport("coingecko", calls=31, rows=52_572, assets_ok=6, plan="public")
    summary = RunSummary(providers=[crypto, failed], warnings=["freshness: SPY is 3 sessions behind"])
    summary.dbt.append(DbtSummary("test", {"pass": 84, "warn": 1}, []))
    summary.errors.append("alpha_vantage: 1 asset failed")
    return summary


def test_the_summary_names_every_failure_warning_and_note_in_a_few_lines(monkeypatch):
    monkeypatch.setenv(console.QUIET_VARIABLE, "0")
    monkeypatch.delenv(console.LOG_FILE_VARIABLE, raising=False)
    out = Console(width=100, record=True, force_terminal=False)
    console.render_summary(_summary(), out)
    text = out.export_text()
    rows = {line.split("│")[0].strip(): line for line in text.splitlines() if "│" in line}
    assert rows.keys() == {"coingecko", "alpha_vantage"}
    assert rows["alpha_vantage"].split("│")[1].strip() == "free", "the plan's short name in the table"
    assert [cell.strip() for cell in rows["alpha_vantage"].split("│")[2:6]] == ["12", "900", "8", "1"]
    assert "failed alpha_vantage IBM: alpha_vantage IBM: field '4. close' is not a number" in text
    assert "note alpha_vantage: daily history limited to 100 sessions: AAPL, MSFT" in text, "one line per note"
    assert "plan alpha_vantage: free (learned from the answer)" in text
    assert "WARNING freshness: SPY is 3 sessions behind" in text
    assert "ERROR alpha_vantage: 1 asset failed" in text
    assert "dbt: test 84 pass, 1 warn" in text
    assert "budget left" not in text, "no empty budget column when no provider has a quota"
    assert len(text.strip().splitlines()) <= 14
