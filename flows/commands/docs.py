"""dbt docs for the warehouse: model and column descriptions, lineage and the live catalog
(column types, row counts) in one browsable site.

Generated in-process through `flows.runtime.dbt.invoke_dbt` (same profiles, same warehouse as the
flow) and with `--static`, which also writes `static_index.html`: the manifest and catalog
inlined into one file that opens from disk (`index.html` fetches them and needs
`dbt docs serve` or any HTTP server). Nothing here reaches the network: `docs generate` only
parses the project and queries the warehouse's information schema.
"""

from __future__ import annotations

from pathlib import Path

from extract.settings import DBT_PROJECT_DIR, Settings
from flows.runtime.dbt import invoke_dbt

DEFAULT_TARGET_PATH = DBT_PROJECT_DIR / "target"  # dbt_project.yml's target-path


def build_docs(settings: Settings, target_path: Path | str | None = None) -> Path:
    """Run `dbt docs generate --static` on the configured warehouse; return `index.html`.

    `target_path` overrides dbt's target directory (tests use a temporary one so they do not
    rewrite the project's `target/`). Raises flows.runtime.dbt.DbtCommandError when dbt fails."""
    target = Path(target_path).resolve() if target_path else DEFAULT_TARGET_PATH
    invoke_dbt(["docs", "generate", "--static", "--target-path", str(target)], settings)
    index = target / "index.html"
    if not index.exists():
        raise FileNotFoundError(f"dbt docs generate reported success but wrote no {index}")
    return index
