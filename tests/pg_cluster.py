"""A throwaway PostgreSQL cluster for the test session: initdb into a temp dir, a free port
on 127.0.0.1, fsync off. As root, initdb and the server run as the `postgres` system user
(initdb refuses root). Start-up takes under a second on this machine kind."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class ClusterUnavailableError(RuntimeError):
    """No PostgreSQL server binaries, or the cluster would not start; the reason says which."""


@dataclass
class Cluster:
    bindir: Path
    datadir: Path
    port: int
    run_as: str | None

    @property
    def environ(self) -> dict[str, str]:
        return {
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": "postgres",
            "PGPASSWORD": "postgres",
            "PGDATABASE": "market_elt",
        }

    def stop(self) -> None:
        _run([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"], self.run_as)
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


def find_bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    on_path = shutil.which("initdb")
    for initdb in [*candidates, on_path]:
        if initdb and Path(initdb).exists():
            return Path(initdb).parent
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(command: list[str], run_as: str | None) -> subprocess.CompletedProcess:
    if run_as:
        command = ["runuser", "-u", run_as, "--", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def start_cluster() -> Cluster:
    bindir = find_bindir()
    if bindir is None:
        raise ClusterUnavailableError("no PostgreSQL server binaries (initdb) found; install Debian's postgresql")
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise ClusterUnavailableError("running as root and there is no `postgres` system user for initdb") from None
        run_as = "postgres"
    root = Path(tempfile.mkdtemp(prefix="market-elt-pg-"))
    datadir, sockets = root / "data", root / "sockets"
    datadir.mkdir()
    sockets.mkdir()
    os.chmod(root, 0o755)
    if run_as:
        for path in (root, datadir, sockets):
            shutil.chown(path, run_as)
    initdb = _run(
        [str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
         "--locale=C.UTF-8", "--no-sync"],
        run_as,
    )  # fmt: skip
    if initdb.returncode != 0:
        raise ClusterUnavailableError(f"initdb failed: {initdb.stderr.strip()[-500:]}")
    port = _free_port()
    options = (
        f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off"
    )
    started = _run(
        [str(bindir / "pg_ctl"), "-D", str(datadir), "-l", str(datadir / "log"), "-w", "start", "-o", options], run_as
    )
    if started.returncode != 0:
        log = (datadir / "log").read_text(errors="replace")[-500:] if (datadir / "log").exists() else ""
        raise ClusterUnavailableError(f"pg_ctl start failed: {started.stderr.strip()[-300:]} {log}")
    created = _run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "market_elt"], None)
    if created.returncode != 0:
        raise ClusterUnavailableError(f"createdb failed: {created.stderr.strip()}")
    return Cluster(bindir, datadir, port, run_as)
