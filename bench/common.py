"""Shared helpers for the bench/ scripts (run by hand, never by the test suite).

- `measure(fn, *args)`: run one step in a fresh (spawned) process: wall time, its peak RSS
  (ru_maxrss of that process), and the peak summed RSS of a Postgres server when given.
- `payload_dir(...)`: the generated Alpha Vantage payloads (cached on disk between runs).
- `EmulatorProcess`: the payload-serving emulator in its own process, so serving does not
  compete with the measured client for the GIL.
- `bench_project(...)`: a copy of dbt_project with a generated `assets` seed.
- `py_spy(...)`: py-spy is not a project dependency; the bench looks for it in `BENCH_EXTRA`
  (default /tmp/bench-extra, `pip install --target /tmp/bench-extra py-spy`).
"""

from __future__ import annotations

import csv
import datetime as dt
import multiprocessing
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_EXTRA = Path(os.environ.get("BENCH_EXTRA", "/tmp/bench-extra"))
WORKDIR = Path(os.environ.get("BENCH_WORKDIR", "/tmp/market-elt-bench"))
QUIET = {
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}


def quiet() -> None:
    os.environ.update(QUIET)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import dlt
    import duckdb

    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, duckdb {duckdb.__version__}, dlt {dlt.__version__}"
    )


# ---------------------------------------------------------------- measuring in a child process


def _child(queue, function, args) -> None:
    quiet()
    started = time.perf_counter()
    try:
        detail, error = function(*args), None
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        import traceback

        detail, error = None, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-3000:]}"
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # Processes the step started and joined (dlt starts one even for an in-process load).
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    queue.put(
        {
            "seconds": elapsed,
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "children_cpu_seconds": children.ru_utime + children.ru_stime,
            "children_peak_rss_mib": round(children.ru_maxrss / 1024, 1),
            "detail": detail,
            "error": error,
        }
    )


def measure(function, *args, pg_datadir: str | None = None) -> dict:
    """Run function(*args) in a fresh spawned process; wall time, peak RSS (and Postgres server RSS)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    sampler = ServerMemorySampler(pg_datadir) if pg_datadir else None
    if sampler:
        sampler.start()
    process = context.Process(target=_child, args=(queue, function, args))
    process.start()
    result = queue.get()
    process.join()
    if sampler:
        result["server_peak_rss_mib"] = sampler.stop()
    if result["error"]:
        raise RuntimeError(result["error"])
    return result


class ServerMemorySampler(threading.Thread):
    """Peak summed RSS of the Postgres postmaster (found by its data directory) and its children."""

    def __init__(self, datadir: str) -> None:
        super().__init__(daemon=True)
        self.datadir, self.peak, self._done = datadir, 0.0, threading.Event()

    def _rss_mib(self) -> float:
        postmaster, children, rss = None, {}, {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            pid, ppid = int(entry), int(stat[1])
            rss[pid] = int(stat[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20
            children.setdefault(ppid, []).append(pid)
            if self.datadir.encode() in cmdline and b"postgres" in cmdline:
                postmaster = pid
        if postmaster is None:
            return 0.0
        return rss.get(postmaster, 0.0) + sum(rss.get(child, 0.0) for child in children.get(postmaster, []))

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, self._rss_mib())
            time.sleep(0.1)

    def stop(self) -> float:
        self._done.set()
        self.join()
        return round(self.peak, 1)


# ---------------------------------------------------------------- generated payloads


class StepTimes:
    """Seconds spent in each dlt step (`extract`, `normalize`, `load`) of every pipeline run in
    this process while active: the product runs the steps one by one (extract/pipeline.py), so
    dlt's last trace holds only the last one."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._saved: dict = {}

    def __enter__(self) -> StepTimes:
        import dlt

        for step in ("extract", "normalize", "load"):
            method = self._saved[step] = getattr(dlt.Pipeline, step)

            def timed(pipeline, *args, _step=step, _method=method, **kwargs):
                started = time.monotonic()
                try:
                    return _method(pipeline, *args, **kwargs)
                finally:
                    self.seconds[_step] = self.seconds.get(_step, 0.0) + time.monotonic() - started

            setattr(dlt.Pipeline, step, timed)
        return self

    def __exit__(self, *exc) -> None:
        import dlt

        for step, method in self._saved.items():
            setattr(dlt.Pipeline, step, method)


def bench_now() -> dt.datetime:
    """A fixed clock for one day: payloads and the emulator agree on the last session."""
    today = dt.datetime.now(dt.UTC).date()
    return dt.datetime.combine(today, dt.time(12), dt.UTC)


def _write_chunk(symbols: list[str], n_equities: int, days: int, directory: str, now_iso: str) -> None:
    from extract.emulator.universe import GeneratedMarket, write_av_payloads

    now = dt.datetime.fromisoformat(now_iso)
    market = GeneratedMarket.generated(n_equities=n_equities, days=days, now=now)
    write_av_payloads(market, Path(directory), now, symbols)


def payload_dir(n_equities: int, days: int, now: dt.datetime | None = None) -> Path:
    """`<symbol>.json` for E0001..E<n> (full adjusted payloads), generated once and reused."""
    from extract.emulator.universe import equity_symbol

    now = now or bench_now()
    # "indented": served as Alpha Vantage writes them (earlier caches held compact JSON).
    directory = WORKDIR / f"payloads-{days}d-{now.date().isoformat()}-indented"
    symbols = [equity_symbol(i) for i in range(1, n_equities + 1)]
    missing = [s for s in symbols if not (directory / f"{s}.json").is_file()]
    if missing:
        started = time.perf_counter()
        directory.mkdir(parents=True, exist_ok=True)
        workers = max(1, os.cpu_count() or 1)
        chunks = [missing[i::workers] for i in range(workers)]
        context = multiprocessing.get_context("spawn")
        processes = [
            context.Process(target=_write_chunk, args=(chunk, n_equities, days, str(directory), now.isoformat()))
            for chunk in chunks
            if chunk
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        print(f"  generated {len(missing)} payloads in {time.perf_counter() - started:.0f} s -> {directory}")
    return directory


# ---------------------------------------------------------------- emulator in its own process


def _serve(payloads: str | None, n_equities: int, days: int, now_iso: str, config: dict, queue, stop) -> None:
    from extract.emulator.server import EmulatorConfig
    from extract.emulator.universe import GeneratedMarket, PayloadDirEmulator

    now = dt.datetime.fromisoformat(now_iso)
    market = GeneratedMarket.generated(n_equities=n_equities, days=days, now=now)
    # The bench measures premium full histories (the payload files are adjusted series).
    config = {"alpha_vantage_plan": "premium", **config}
    emulator = PayloadDirEmulator(Path(payloads or "/nonexistent"), market=market, config=EmulatorConfig(**config))
    emulator.start()
    serving_from = time.process_time()
    queue.put(emulator.base_urls())
    stop.wait()
    queue.put(
        {
            "requests": len(emulator.requests),
            "status_429": sum(1 for r in emulator.requests if r.status == 429),
            "throttled": sum(emulator.throttled.values()),
            "throttled_at": list(emulator.throttled_at),
            "times": [r.at for r in emulator.requests],
            # What serving cost, on the same cores as the measured process.
            "cpu_seconds": round(time.process_time() - serving_from, 1),
        }
    )
    emulator.stop()


class EmulatorProcess:
    """`with EmulatorProcess(payloads, n, days) as urls:`; `.stats` after exit (requests, 429s, CPU seconds)."""

    def __init__(self, payloads: Path | None, n_equities: int, days: int, now: dt.datetime, **config) -> None:
        context = multiprocessing.get_context("spawn")
        self._queue, self._stop = context.Queue(), context.Event()
        self._process = context.Process(
            target=_serve,
            args=(
                str(payloads) if payloads else None,
                n_equities,
                days,
                now.isoformat(),
                config,
                self._queue,
                self._stop,
            ),
            daemon=True,
        )
        self.stats: dict = {}

    def __enter__(self) -> dict[str, str]:
        self._process.start()
        return self._queue.get(timeout=120)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        try:
            self.stats = self._queue.get(timeout=60)
        finally:
            self._process.join(timeout=30)


def settings_for(urls: dict[str, str], duckdb_path: Path, target: str = "dev", **overrides):
    from extract.registry import PROVIDERS
    from extract.settings import NO_LIMITS, Settings

    budgets = dict.fromkeys(PROVIDERS, NO_LIMITS)
    values = {
        "duckdb_path": duckdb_path,
        "dbt_target": target,
        "coingecko_base_url": urls["coingecko"],
        "alpha_vantage_base_url": urls["alpha_vantage"],
        "alpha_vantage_api_key": "bench-key",
        "alpha_vantage_plan": "premium",
        "fear_greed_base_url": urls["fear_greed"],
        "backoff_factor": 0.05,
        "budgets": budgets,
        "pipelines_dir": duckdb_path.parent / "dlt",
    } | overrides
    return Settings(**values)


def run_scales(args, run_scale) -> list[dict]:
    """`run_scale(n, args, cluster)` for each of `args.assets`, on one throwaway Postgres cluster
    when `args.postgres` (stopped afterwards, whatever happens); the results, concatenated."""
    quiet()
    print(f"machine: {machine()}")
    cluster = start_postgres() if args.postgres else None
    results = []
    try:
        for n in args.assets:
            results.extend(run_scale(n, args, cluster))
    finally:
        if cluster:
            cluster.stop()
    return results


def fresh_dir(name: str) -> Path:
    path = WORKDIR / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


# ---------------------------------------------------------------- Postgres


def start_postgres():
    from tests.pg_cluster import start_cluster

    return start_cluster()


def recreate_database(cluster, name: str) -> dict[str, str]:
    import psycopg2

    env = cluster.environ
    admin = psycopg2.connect(
        host=env["PGHOST"], port=env["PGPORT"], user=env["PGUSER"], password=env["PGPASSWORD"], dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'drop database if exists "{name}"')
        cursor.execute(f'create database "{name}"')
    admin.close()
    return {**env, "PGDATABASE": name}


# ---------------------------------------------------------------- dbt project with a generated universe


def write_assets_seed(path: Path, n_equities: int) -> None:
    from extract.emulator.universe import equity_symbol

    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        header = ["asset_id", "symbol", "name", "asset_type", "coingecko_id", "alpha_vantage_symbol", "is_active"]
        writer.writerow(header)
        for i in range(1, n_equities + 1):
            symbol = equity_symbol(i)
            writer.writerow([i, symbol, f"Generated Equity {symbol}", "equity", "", symbol, "true"])


def bench_project(n_equities: int) -> Path:
    """A copy of dbt_project (without target/ and logs/) whose assets seed lists E0001..E<n>."""
    destination = WORKDIR / f"dbt_project_{n_equities}"
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(ROOT / "dbt_project", destination, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    write_assets_seed(destination / "seeds" / "assets.csv", n_equities)
    return destination


def py_spy(pid: int, out: Path, seconds: int) -> subprocess.Popen | None:
    binary = BENCH_EXTRA / "bin" / "py-spy"
    if not binary.exists():
        return None
    return subprocess.Popen(
        [
            str(binary),
            "record",
            "-p",
            str(pid),
            "-d",
            str(seconds),
            "-f",
            "raw",
            "-o",
            str(out),
            "--nonblocking",
            *os.environ.get("BENCH_PYSPY_ARGS", "").split(),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def table(rows: list[list], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    line = lambda r: "| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])
