"""The dbt SQL stays in the project's style: sqlfluff (dbt templater) reports nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # sqlfluff's dbt templater compiles every model: about a minute


def test_sqlfluff_lint_is_clean(tmp_path):
    environment = {**os.environ, "DUCKDB_PATH": str(tmp_path / "lint.duckdb"), "DBT_TARGET": "dev"}
    paths = ["dbt_project/models", "dbt_project/data-tests", "dbt_project/macros"]
    result = subprocess.run(
        [sys.executable, "-m", "sqlfluff", "lint", *paths, "--disable-progress-bar", "--nocolor"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]
