"""What a build must run, so a daily run costs what the day costs.

The incremental models decide per asset and day what to recompute (int_bar_recomputes_planned,
int_hourly_bar_changes, int_observation_changes); what is left is dbt's cost per node. A build
runs the nodes downstream of the providers that loaded data since the last build that
published (dlt's `_dlt_loads`, per provider), with their tests. When the dbt project itself
changed (any model, macro, seed, test or dbt_project.yml; profiles.yml; the dbt version),
before the first build, or on a full refresh, it runs everything: seeds, views, every test.
Otherwise the seeds and the tables built from them alone (the universe, the trading calendar)
are as built, and so are the views on DuckDB, which binds a view to its tables by name at
query time, unless the view's SQL is decided when it is compiled by reading the warehouse (a
view reading the stored feature state): those are compiled and created again. A staging view
of a raw table dlt has not created yet, or of a lake dataset without files, reads as empty
(source_or_empty, lake_or_empty): the raw tables and lake datasets present are part of what
makes the project "changed", so those views are created again when one appears. Postgres binds
a view to the table it was created on, and dbt drops a rebuilt table with CASCADE, so there
every view in scope is created again. dbt's unit tests check the SQL, not the data: they run
when the project changed (and in the test suite), not every day.

What the last publishing build saw is kept in the warehouse (`ops.build_state`), so every
process and machine running flows against it agrees.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import dbt.version

from extract.settings import PROJECT_ROOT, Settings
from flows.runtime.warehouse import execute, query, table_exists

STATE_SCHEMA, STATE_TABLE = "ops", "build_state"
PROJECT_KEY = "project"
# Their reads of the warehouse (does the raw table, the lake dataset exist) are in the fingerprint.
FINGERPRINTED_READS = {"macro.market_elt.source_or_empty", "macro.market_elt.lake_or_empty"}
PROJECT_FILES = ("*.sql", "*.yml", "*.yaml", "*.csv", "*.md")
# Jinja that reads the warehouse while a node is compiled: its SQL can differ from one build to the next.
READS_WAREHOUSE = re.compile(r"get_relation\(|load_relation\(|get_columns_in_relation\(|run_query\(|is_incremental\(")


@dataclass
class BuildScope:
    """The nodes one build runs: everything, or the dbt sources with new data (the providers
    with new loads, the lake when it was written) and what they feed."""

    everything: bool
    providers: list[str] = field(default_factory=list)
    fingerprint: str = ""
    loads: dict[str, str] = field(default_factory=dict)
    binds_views_by_name: bool = True

    @property
    def nothing(self) -> bool:
        return not self.everything and not self.providers

    def seed_args(self) -> list[str] | None:
        """`dbt seed` arguments, or None when the seeds are as built."""
        return ["seed", "--full-refresh"] if self.everything else None

    def run_args(self, manifest) -> list[str] | None:
        """`dbt run` arguments, or None when no model in scope needs running."""
        if self.everything:
            return ["run"]
        models = self._nodes(manifest, "model")
        return ["run", "--select", *models] if models else None

    def test_args(self, manifest) -> list[str] | None:
        """`dbt test` arguments, or None when no test reads what is in scope."""
        if self.everything:
            return ["test"]
        tests = self._nodes(manifest, "test")
        return ["test", "--select", *tests] if tests else None

    def describe(self) -> str:
        if self.everything:
            return "everything (the dbt project changed, or a first or full build)"
        if self.nothing:
            return "nothing (no new data since the last build)"
        return f"what {', '.join(self.providers)} feed (new data since the last build)"

    def _nodes(self, manifest, resource_type: str) -> list[str]:
        """The names of the models to run, or the data tests to run, downstream of the sources
        with new data (a test reading several models is in when one of them is)."""
        downstream: set[str] = set()
        frontier = [uid for uid in manifest.sources if uid.split(".")[2] in self.providers]
        while frontier:
            children = manifest.child_map.get(frontier.pop(), [])
            frontier += [child for child in children if child not in downstream]
            downstream.update(children)
        nodes = [manifest.nodes[uid] for uid in sorted(downstream) if uid in manifest.nodes]
        if resource_type == "test":
            return [node.name for node in nodes if node.resource_type == "test"]
        return [node.name for node in nodes if node.resource_type == "model" and self._runs(manifest, node)]

    def _runs(self, manifest, model) -> bool:
        """Whether a model in scope is run: not an ephemeral one (compiled into others), and
        not a view DuckDB keeps bound by name whose SQL cannot have changed."""
        materialized = model.config.materialized
        if materialized == "ephemeral":
            return False
        if materialized == "view" and self.binds_views_by_name:
            return _reads_warehouse_when_compiled(manifest, model)
        return True


def _reads_warehouse_when_compiled(manifest, node) -> bool:
    """Whether `node`'s SQL, or a macro it calls (directly or not), reads the warehouse."""
    pending, seen = [uid for uid in node.depends_on.macros if uid not in FINGERPRINTED_READS], set()
    if READS_WAREHOUSE.search(node.raw_code):
        return True
    while pending:
        macro = manifest.macros.get(pending.pop())
        if macro is None or macro.unique_id in seen or macro.unique_id in FINGERPRINTED_READS:
            continue
        seen.add(macro.unique_id)
        if READS_WAREHOUSE.search(macro.macro_sql):
            return True
        pending += macro.depends_on.macros
    return False


def project_fingerprint(settings: Settings) -> str:
    """A hash of everything a build's SQL depends on besides the data: the dbt project's files,
    profiles.yml, the dbt version and the target, the raw tables and the lake datasets present."""
    digest = hashlib.sha256(f"{dbt.version.__version__}|{settings.dbt_target}".encode())
    raw_tables = query(
        settings, "select table_name from information_schema.tables where table_schema = 'raw' order by table_name"
    )
    lake = Path(settings.lake_dir)
    datasets = (
        [path.name for path in sorted(lake.iterdir()) if next(path.rglob("*.parquet"), None)] if lake.is_dir() else []
    )
    digest.update(f"raw:{[name for (name,) in raw_tables]}|lake:{datasets}".encode())
    project = Path(settings.dbt_project_dir)
    files = sorted(
        path
        for pattern in PROJECT_FILES
        for path in project.rglob(pattern)
        if not path.relative_to(project).parts[0].startswith(("target", "logs", "dbt_packages"))
    )
    for path in [*files, PROJECT_ROOT / "profiles.yml"]:
        digest.update(str(path.relative_to(project) if path.is_relative_to(project) else path.name).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def newest_loads(settings: Settings, providers: list[str]) -> dict[str, str]:
    """Per provider (a dlt source's schema name), the newest completed load into `raw`."""
    if not table_exists(settings, "raw", "_dlt_loads"):
        return {}
    names = ", ".join(f"'{provider}'" for provider in providers)
    rows = query(
        settings,
        f"select schema_name, max(load_id) from raw._dlt_loads where status = 0 and schema_name in ({names}) "
        "group by schema_name",
    )
    return dict(rows)


def recorded_state(settings: Settings) -> dict[str, str]:
    if not table_exists(settings, STATE_SCHEMA, STATE_TABLE):
        return {}
    return dict(query(settings, f"select name, value from {STATE_SCHEMA}.{STATE_TABLE}"))


def build_scope(
    settings: Settings, providers: list[str], full_refresh: bool = False, lake_changed: bool = False
) -> BuildScope:
    """What this build runs, from the project's fingerprint and the providers' newest loads
    against what the last publishing build recorded; `lake_changed` (the run wrote the Parquet
    lake, which dlt does not load) adds the models reading the lake."""
    if settings.destination == "spark":
        # Spark's Parquet tables cannot delete rows: every build there is a full one (README, "Spark").
        return BuildScope(everything=True, providers=list(providers), binds_views_by_name=False)
    fingerprint = project_fingerprint(settings)
    loads = newest_loads(settings, providers)
    recorded = recorded_state(settings)
    everything = full_refresh or recorded.get(PROJECT_KEY) != fingerprint
    changed = [name for name, load in sorted(loads.items()) if load > recorded.get(f"load:{name}", "")]
    return BuildScope(
        everything=everything,
        providers=changed + (["lake"] if lake_changed else []),
        fingerprint=fingerprint,
        loads=loads,
        binds_views_by_name=settings.destination == "duckdb",
    )


def record_build(settings: Settings, scope: BuildScope) -> None:
    """After a build published: the project and the loads it read, for the next build's scope
    (nothing on Spark, where every build is a full one)."""
    if settings.destination == "spark":
        return
    rows = [(PROJECT_KEY, scope.fingerprint)] + [(f"load:{name}", load) for name, load in scope.loads.items()]
    values = ", ".join(f"('{name}', '{value}')" for name, value in rows)
    names = ", ".join(f"'{name}'" for name, _ in rows)
    execute(
        settings,
        [
            f"create schema if not exists {STATE_SCHEMA}",
            f"create table if not exists {STATE_SCHEMA}.{STATE_TABLE} (name text primary key, value text not null)",
            f"delete from {STATE_SCHEMA}.{STATE_TABLE} where name in ({names})",
            f"insert into {STATE_SCHEMA}.{STATE_TABLE} (name, value) values {values}",
        ],
    )
