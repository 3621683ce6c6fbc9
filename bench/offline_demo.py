"""Offline demo benchmark: `market-elt run --offline` as a first-time user runs it, twice in a row
from a fresh warehouse and a fresh Prefect home (the first run includes Prefect's first-start
migrations), repeated from new directories; wall times and their medians, with the load average.

    .venv/bin/python bench/offline_demo.py               # 3 fresh directories, 2 runs each
    .venv/bin/python bench/offline_demo.py --repeat 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = Path(sys.executable).with_name("market-elt")


def one_directory(workdir: Path) -> list[float]:
    """The wall seconds of two consecutive offline runs in `workdir`; raises if a run fails."""
    environment = {
        **os.environ,
        "DUCKDB_PATH": str(workdir / "data" / "warehouse.duckdb"),
        "PREFECT_HOME": str(workdir / "prefect"),
    }
    walls = []
    for run in (1, 2):
        started = time.perf_counter()
        with open(workdir / f"run{run}.txt", "w") as output:
            done = subprocess.run(
                [str(CLI), "run", "--offline"], cwd=workdir, env=environment, stdout=output, stderr=subprocess.STDOUT
            )
        walls.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"run {run} in {workdir} exited {done.returncode}: see {workdir}/run{run}.txt")
    return walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="fresh directories (default 3)")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    firsts, seconds = [], []
    for _ in range(args.repeat):
        workdir = Path(tempfile.mkdtemp(prefix="market-elt-demo-"))
        first, second = one_directory(workdir)
        firsts.append(first)
        seconds.append(second)
        print(f"  {workdir}: first {first:.1f} s, second {second:.1f} s (load {os.getloadavg()[0]:.2f})")
    print(f"first run median {statistics.median(firsts):.1f} s, second run median {statistics.median(seconds):.1f} s")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
