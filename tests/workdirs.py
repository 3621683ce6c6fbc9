"""The test session's directories: one temporary root, and per test process (pytest-xdist
worker) the paths every test of that process reuses."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

SESSION_DIR = Path(tempfile.mkdtemp(prefix="market-elt-tests-"))
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def worker_dir(name: str) -> Path:
    """This test process's directory `name`, emptied: the same path for each of its tests.
    dbt's partial parsing starts over when the profile's connection (the DuckDB path, the
    Postgres database) or an env_var() the project reads (the lake directory beside the
    warehouse) differs from the last parse's; a path per test would parse the project anew
    (4-7 s) in each."""
    path = SESSION_DIR / WORKER / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def project_copy(name: str = "dbt_project") -> Path:
    """A copy of the dbt project for a test to change (its universe, its known gaps), at this
    process's path (see worker_dir). Its dbt target directories are kept, so partial parsing
    rereads only the files the test changes."""
    from extract.settings import DBT_PROJECT_DIR  # after conftest's environment is set

    project = SESSION_DIR / WORKER / name
    if project.is_dir():
        for child in project.iterdir():
            if not child.name.startswith("target"):
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    shutil.copytree(
        DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target*", "logs", ".user.yml"), dirs_exist_ok=True
    )
    return project
