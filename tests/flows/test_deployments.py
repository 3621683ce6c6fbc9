"""Deployments: prefect.yaml declares the crypto and equities schedules of the daily flow and
the weekly check of every row, `serve_all` serves exactly those, and `prefect deploy --all`
accepts the file (slow test, local Prefect server)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import prefect
import pytest
import yaml
from croniter import croniter
from prefect.flows import load_flow_from_entrypoint

from extract import calendars
from extract.assets import load_assets
from extract.registry import PROVIDERS
from extract.settings import PROJECT_ROOT
from flows import deployments
from flows.deployments import PREFECT_YAML, build_deployments, load_specs

EXPECTED = {
    "crypto-daily": ("0 21 * * *", "UTC", {"providers": ["coingecko", "fear_greed"]}),
    "equities-daily": ("30 22 * * 1-5", "UTC", {"providers": ["alpha_vantage"], "closed_sessions_only": True}),
    "check-weekly": ("0 6 * * 0", "UTC", {"check_all": True}),
}
# deployment -> (entrypoint, flow name, the module path served deployments import)
FLOWS = {
    "crypto-daily": ("flows/daily.py:daily", "market-elt-daily", "flows.daily.daily"),
    "equities-daily": ("flows/daily.py:daily", "market-elt-daily", "flows.daily.daily"),
    "check-weekly": ("flows/check.py:check", "market-elt-check", "flows.check.check"),
}


def _raw_deployments() -> dict[str, dict]:
    document = yaml.safe_load(PREFECT_YAML.read_text())
    return {entry["name"]: entry for entry in document["deployments"]}


def test_prefect_yaml_declares_both_schedules_on_the_process_pool():
    raw = _raw_deployments()
    assert set(raw) == set(EXPECTED)
    for name, (cron, timezone, parameters) in EXPECTED.items():
        entry = raw[name]
        assert entry["entrypoint"] == FLOWS[name][0]
        assert entry["schedules"] == [{"cron": cron, "timezone": timezone}]
        assert entry["parameters"] == parameters
        assert entry["work_pool"]["name"] == "market-elt"
        assert set(entry["parameters"].get("providers", [])) <= set(PROVIDERS)


def test_entrypoints_load_as_a_worker_would_and_accept_the_parameters():
    for name, entry in _raw_deployments().items():
        flow = load_flow_from_entrypoint(str(PROJECT_ROOT / entry["entrypoint"]), use_placeholder_flow=False)
        assert flow.name == FLOWS[name][1]
        assert set(entry["parameters"]) <= set(flow.parameters.properties)


def test_equities_run_after_every_exchanges_close_all_year_and_never_on_weekends():
    """At 22:30 UTC on every weekday of 2026, each exchange of the universe that traded that day
    has closed: a run collects every session of its day (an hour and a half after New York in
    summer time, the latest close)."""
    exchanges = {a.exchange for a in load_assets() if a.asset_type == "equity"}
    cron = EXPECTED["equities-daily"][0]
    fire_times = croniter(cron, dt.datetime(2025, 12, 31, 23, 0, tzinfo=dt.UTC))
    margin = dt.timedelta(hours=24)
    runs = 0
    while (run := fire_times.get_next(dt.datetime)).year == 2026:
        runs += 1
        assert run.weekday() < 5, run
        for exchange in exchanges:
            if calendars.is_session(exchange, run.date()):
                margin = min(margin, run - calendars.session_close(exchange, run.date()))
    assert runs == 261  # every weekday of 2026
    assert margin >= dt.timedelta(hours=1, minutes=30), "EDT: 22:30 UTC is 18:30 in New York"


def test_crypto_runs_once_a_day_at_21_utc():
    fire_times = croniter(EXPECTED["crypto-daily"][0], dt.datetime(2026, 3, 28, 0, 0, tzinfo=dt.UTC))
    runs = [fire_times.get_next(dt.datetime) for _ in range(3)]
    assert runs == [dt.datetime(2026, 3, day, 21, 0, tzinfo=dt.UTC) for day in (28, 29, 30)]


def test_build_deployments_follows_prefect_yaml():
    built = {deployment.name: deployment for deployment in build_deployments()}
    assert set(built) == set(EXPECTED)
    for name, (cron, timezone, parameters) in EXPECTED.items():
        deployment = built[name]
        assert [(s.schedule.cron, s.schedule.timezone, s.active) for s in deployment.schedules] == [
            (cron, timezone, True)
        ]
        assert deployment.parameters == parameters
        assert deployment.flow_name == FLOWS[name][1]
        assert deployment.entrypoint == FLOWS[name][2], "module path: works from any directory"
        assert deployment.work_pool_name is None, "served deployments need no work pool"
    assert [spec.module_path for spec in load_specs()] == [FLOWS[name][2] for name in EXPECTED]


def test_serve_all_serves_every_deployment_one_run_at_a_time(monkeypatch):
    served = {}

    def fake_serve(*args, **kwargs):
        served.update(deployments=args, kwargs=kwargs)

    monkeypatch.setattr(prefect, "serve", fake_serve)
    deployments.serve_all()
    assert sorted(d.name for d in served["deployments"]) == sorted(EXPECTED)
    assert served["kwargs"] == {"limit": 1}


def test_a_non_flow_entrypoint_is_refused(tmp_path):
    path = tmp_path / "prefect.yaml"
    path.write_text(
        yaml.safe_dump(
            {"deployments": [{"name": "x", "entrypoint": "flows/deployments.py:load_specs", "schedules": []}]}
        )
    )
    with pytest.raises(TypeError, match="not a Prefect flow"):
        build_deployments(load_specs(path))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _prefect(args: list[str], env: dict[str, str], timeout: float = 60) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "prefect", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"prefect {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.slow
def test_prefect_deploy_all_registers_both_deployments(tmp_path):
    """The real CLI against a throwaway `prefect server start` (~20 s, migrations included)."""
    api_url = f"http://127.0.0.1:{_free_port()}/api"
    port = api_url.rsplit(":", 1)[1].split("/")[0]
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": api_url,
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    log = Path(tmp_path / "server.log")
    with log.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", port],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        _prefect(["work-pool", "create", "market-elt", "--type", "process"], env)
        _prefect(["--no-prompt", "deploy", "--all"], env)

        registered = httpx.post(f"{api_url}/deployments/filter", json={}, timeout=10).json()
    finally:
        server.terminate()
        server.wait(timeout=30)
    by_name = {deployment["name"]: deployment for deployment in registered}
    assert set(by_name) == set(EXPECTED)
    for name, (cron, timezone, parameters) in EXPECTED.items():
        deployment = by_name[name]
        assert deployment["entrypoint"] == FLOWS[name][0]
        assert deployment["work_pool_name"] == "market-elt"
        assert deployment["parameters"] == parameters
        assert [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in deployment["schedules"]] == [
            (cron, timezone)
        ]
        assert deployment["pull_steps"] == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(PROJECT_ROOT)}}
        ]
