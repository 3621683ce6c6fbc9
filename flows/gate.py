"""The publication gate: after `dbt test`, the one place that decides what publishes.

Every data test stores its failing rows as a view in `audit_failures` (dbt's stored failures,
`store_failures_as: view` in dbt_project.yml). For each error-severity test that failed:
- its rows name assets (an `asset_id` column, or a provider id or symbol the universe maps to an
  asset): those assets are quarantined. Their new rows are held back, their published rows stay
  exactly as last published, and every other asset publishes;
- it names no asset (a seed, a contract, a unit test, a test that could not run, a row without
  an asset): nothing publishes.
Warn-severity failures are reported and publish. The verdict goes to `publish_marts` (the
assets to hold back), to the run's summary (so the run exits non-zero naming each quarantined
asset, the test and sample rows) and to the run log (`market-elt status` lists it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extract.settings import Settings
from flows.runtime.warehouse import columns_and_rows

SAMPLE_ROWS = 3
# Columns by which a failing row can name an asset, in order of preference.
ASSET_KEYS = ("asset_id", "coingecko_id", "alpha_vantage_symbol", "symbol")
ASSETS_TABLE = "seeds.assets"


@dataclass(frozen=True)
class TestOutcome:
    """One test's result as dbt reported it. `relation`: its stored-failures view, if any."""

    name: str
    status: str  # pass | fail | warn | error | skipped
    failures: int = 0
    relation: str | None = None
    message: str = ""


@dataclass
class Finding:
    test: str
    rows: int
    sample: list[str]

    def line(self) -> str:
        return f"{self.test}: {self.rows} row(s)" + (f", e.g. {'; '.join(self.sample)}" if self.sample else "")


@dataclass
class Verdict:
    # asset_id -> (symbol, findings of the error tests that named it)
    quarantined: dict[int, tuple[str, list[Finding]]] = field(default_factory=dict)
    blocking: list[str] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def publishes(self) -> bool:
        return not self.blocking

    @property
    def outcome(self) -> str:
        return "blocked" if self.blocking else "quarantined" if self.quarantined else "published"

    def error_lines(self) -> list[str]:
        """What fails the run: every blocking test, every quarantined asset with its tests."""
        lines = [f"gate: nothing published: {reason}" for reason in self.blocking]
        for asset_id, (symbol, findings) in sorted(self.quarantined.items(), key=lambda item: item[1][0]):
            tests = " | ".join(finding.line() for finding in findings)
            lines.append(f"gate: {symbol} (asset {asset_id}) held back, published rows kept: {tests}")
        return lines

    def warning_lines(self) -> list[str]:
        return [f"gate warning (published): {finding.line()}" for finding in self.warnings]

    def as_record(self) -> dict[str, dict]:
        """{symbol: {"asset_id", "tests": {test: {"rows", "sample"}}}} for the run log."""
        return {
            symbol: {"asset_id": asset_id, "tests": {f.test: {"rows": f.rows, "sample": f.sample} for f in findings}}
            for asset_id, (symbol, findings) in self.quarantined.items()
        }


def decide(settings: Settings, outcomes: list[TestOutcome]) -> Verdict:
    verdict = Verdict()
    for outcome in outcomes:
        if outcome.status == "warn":
            verdict.warnings.append(Finding(outcome.name, outcome.failures, _sample(settings, outcome.relation)))
        elif outcome.status in ("fail", "error"):
            named = _named_assets(settings, outcome) if outcome.status == "fail" else None
            if named is None:
                verdict.blocking.append(f"{outcome.name} names no asset ({outcome.status}: {outcome.message[:200]})")
                continue
            for asset_id, (symbol, rows, sample) in named.items():
                verdict.quarantined.setdefault(asset_id, (symbol, []))[1].append(Finding(outcome.name, rows, sample))
    return verdict


def _named_assets(settings: Settings, outcome: TestOutcome) -> dict[int, tuple[str, int, list[str]]] | None:
    """{asset_id: (symbol, failing rows, sample)} when every failing row names an asset, else None."""
    if outcome.relation is None:
        return None
    columns, _ = columns_and_rows(settings, f"select * from {outcome.relation} limit 0")
    key = next((column for column in ASSET_KEYS if column in columns), None)
    if key is None:
        return None
    join = "assets.asset_id = failing.asset_id" if key == "asset_id" else f"assets.{key} = failing.{key}"
    _, rows = columns_and_rows(
        settings,
        f"select assets.asset_id, max(assets.symbol), max(failing.{key}), count(*) from {outcome.relation} as failing "
        f"left join {ASSETS_TABLE} as assets on {join} group by assets.asset_id",
    )
    if not rows or any(asset_id is None for asset_id, *_ in rows):
        return None  # a row without an asset (NULL, or unknown to the universe)
    named = {}
    for asset_id, symbol, value, count in rows:
        literal = str(int(value)) if key == "asset_id" else "'" + str(value).replace("'", "''") + "'"
        named[int(asset_id)] = (symbol, int(count), _sample(settings, outcome.relation, f"{key} = {literal}"))
    return named


def _sample(settings: Settings, relation: str | None, condition: str = "true") -> list[str]:
    """A few failing rows as `column=value` lists (asset, day, values)."""
    if relation is None:
        return []
    try:
        columns, rows = columns_and_rows(settings, f"select * from {relation} where {condition} limit {SAMPLE_ROWS}")
    except Exception as exc:  # noqa: BLE001 - the verdict stands without its sample
        return [f"(rows unavailable: {str(exc).splitlines()[0]})"]
    return [", ".join(f"{c}={v}" for c, v in zip(columns, row, strict=True)) for row in rows]
