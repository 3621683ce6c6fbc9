"""Alpha Vantage source: daily equity bars on whatever plan the key has, plus what a free key
needs to be useful (split and dividend history, monthly history).

The plan decides the calls (extract/alpha_vantage/settings.py):
- premium: `TIME_SERIES_DAILY_ADJUSTED`, `outputsize=full` for a symbol's first run and
  backfills, `compact` afterwards; the series carries dividends and split coefficients;
- free: `TIME_SERIES_DAILY` `compact` (the latest 100 sessions) on every run, so history
  accumulates from the first run on; `SPLITS` and `DIVIDENDS` every few days per symbol, so
  dbt adjusts the free bars too; `TIME_SERIES_MONTHLY` once per symbol, the whole monthly
  history. The run report says, per symbol, that the plan limited its daily history.
`ALPHAVANTAGE_PLAN` sets the plan; unset, it is learned: the first symbol is asked for the
premium series alone, a "premium endpoint" answer means free, and the answer is remembered in
the resource's state (with a short fingerprint of the key, never the key) and checked again
every PLAN_RECHECK_DAYS. Daily bars come first: extras take what is left of the day's budget.

Bodies become Arrow tables without a Python object per row (`helpers.typed_daily_table`), and
the resource yields them ~50k rows at a time, so dlt writes them without per-row work: parquet
files on DuckDB, CSV for COPY on Postgres (docs/performance.md, "Load").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from typing import TYPE_CHECKING

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.json import json as dlt_json

from extract.alpha_vantage.helpers import (
    ProviderQuotaError,
    corporate_action_rows,
    daily_table,
    is_retried_notice,
    row_ids,
    throttle_kind,
    typed_daily_table,
)
from extract.alpha_vantage.settings import (
    BASE_URL,
    COMPACT_REACH_DAYS,
    COMPACT_SESSIONS,
    CORPORATE_ACTIONS_REFRESH_DAYS,
    DIVIDENDS,
    FREE_KEY_URL,
    KEY_SETTING,
    MONTHLY,
    PLAN_RECHECK_DAYS,
    PLAN_SETTING,
    PLANS,
    RAW_FIELDS,
    SPLITS,
    Plan,
    plan_limits,
)
from extract.backfill import Backfill
from extract.errors import ConfigurationError, PlanError
from extract.fetching import fetch_each
from extract.http import provider_budget, rest_client
from extract.provider import Provider
from extract.ratelimit import RateBudget
from extract.report import ProviderReport
from extract.responses import json_body
from extract.settings import Settings

if TYPE_CHECKING:
    from extract.assets import Asset

PROVIDER = "alpha_vantage"
DLT_ID = pa.field("_dlt_id", pa.string(), nullable=False)
BATCH_ROWS = 50_000  # rows per item handed to dlt (~14 full histories, ~500 daily updates)
MERGE = {"disposition": "merge", "strategy": "delete-insert"}
COLUMNS = {name: {"data_type": "text", "nullable": True} for name in RAW_FIELDS} | {
    "date": {"data_type": "date", "nullable": False},
    "last_refreshed": {"data_type": "text"},
}
# The resource's tables. Column hints go with each item (a table variant), not on the resource:
# the free plan's extra tables would inherit the daily table's columns. A new answer for an
# extra table replaces every stored row of its symbol (merge key).
DAILY_HINTS = dlt.mark.make_hints(table_name="alpha_vantage_daily", columns=COLUMNS)
EXTRA_TABLES = {
    SPLITS: dlt.mark.make_hints(
        table_name="alpha_vantage_splits", write_disposition=MERGE, primary_key=("symbol", "effective_date"),
        merge_key="symbol", columns={"split_factor": {"data_type": "text"}},
    ),
    DIVIDENDS: dlt.mark.make_hints(
        table_name="alpha_vantage_dividends", write_disposition=MERGE, primary_key=("symbol", "ex_dividend_date"),
        merge_key="symbol", columns={"amount": {"data_type": "text"}},
    ),
    MONTHLY: dlt.mark.make_hints(
        table_name="alpha_vantage_monthly", write_disposition=MERGE, primary_key=("symbol", "date"),
        merge_key="symbol", columns=COLUMNS,
    ),
}  # fmt: skip


def key_fingerprint(key: str | None) -> str:
    """Eight hex digits of the key's SHA-256: enough to notice another key, useless to recover it."""
    return hashlib.sha256((key or "").encode()).hexdigest()[:8]


class PlanMemory:
    """The plan this run uses: configured, remembered, or (None) to be learned from the first answer."""

    def __init__(self, state: dict, settings: Settings, now: dt.datetime, report: ProviderReport, budget) -> None:
        self._state, self._now, self._report, self._budget = state, now, report, budget
        self._settings = settings
        self._lock = threading.Lock()
        self._fingerprint = key_fingerprint(settings.alpha_vantage_api_key)
        self.name: str | None = settings.alpha_vantage_plan
        self.source = f"set by {PLAN_SETTING}"
        remembered = state.get("plan") or {}
        if self.name is None and remembered.get("key") == self._fingerprint:
            checked = dt.date.fromisoformat(remembered["checked"])
            if (now.date() - checked).days < PLAN_RECHECK_DAYS:
                self.name, self.source = remembered["plan"], f"learned on {checked}"
        if self.name is not None:
            budget.set_limits(**settings.budget_limits(PROVIDER, plan_limits(self.name)))

    @property
    def known(self) -> bool:
        return self.name is not None

    @property
    def plan(self) -> Plan:
        """The plan to ask with: an unknown one is tried as premium once."""
        return PLANS[self.name or "premium"]

    def _learn(self, name: str, source: str) -> None:
        self.name, self.source = name, source
        self._budget.set_limits(**self._settings.budget_limits(PROVIDER, plan_limits(name)))
        if self._settings.alpha_vantage_plan is None:
            self._state["plan"] = {"plan": name, "key": self._fingerprint, "checked": self._now.date().isoformat()}

    def answered(self) -> None:
        """The premium series came back: the key is premium."""
        with self._lock:
            if self.name is None:
                self._learn("premium", "learned from the provider's answer")

    def refused(self, error: PlanError, asked: str) -> bool:
        """A call made on plan `asked` was refused: True when the free plan is to be tried
        (another thread may have switched already), False when the free plan itself refused."""
        with self._lock:
            if asked == "free":
                return False
            if self.name == "free":
                return True
            if self.name == "premium" and self._settings.alpha_vantage_plan == "premium":
                self._report.warn(
                    f"{PLAN_SETTING}=premium, but the provider refused a premium call ({error.reason}): using the "
                    f"free plan for this run; unset {PLAN_SETTING} to let market-elt learn the key's plan"
                )
            self._learn("free", "learned from the provider's answer")
            return True


@dlt.source(name="alpha_vantage", max_table_nesting=0)
def alpha_vantage_source(
    symbols: list[str],
    settings: Settings,
    report: ProviderReport,
    now: dt.datetime,
    backfill: Backfill | None = None,
    budget: RateBudget | None = None,
):
    budget = budget or run_budget(settings, now)
    client = rest_client(
        PROVIDER, base_url(settings), settings, report,
        retry_when=is_retried_notice, classify=throttle_kind, budget=budget,
    )  # fmt: skip
    secrets = secret_values(settings)

    def query(params: dict):
        return client.get("/query", params={**params, "apikey": settings.alpha_vantage_api_key})

    def fetch_daily(symbol: str, cursor: dt.date | None, plans: PlanMemory) -> pa.Table:
        plan = plans.plan
        function = plan.daily_function
        compact = not plan.full_history or (
            backfill is None and cursor is not None and (now.date() - cursor).days < COMPACT_REACH_DAYS
        )
        response = query({"function": function, "symbol": symbol, "outputsize": "compact" if compact else "full"})
        keep = (backfill.start, backfill.end, None) if backfill else (None, None, _after(cursor, settings.lag_days))
        try:
            table = body_table(response.content, symbol, function, *keep) if response.status_code == 200 else None
            if table is None:  # errors, or a body orjson refuses: the lenient path names the problem
                table = payload_table(json_body(response, PROVIDER, symbol), symbol, function, *keep)
        except PlanError as refusal:
            if plans.refused(refusal, plan.name):
                return fetch_daily(symbol, cursor, plans)
            raise
        except ProviderQuotaError:
            budget.exhaust("day")
            raise
        plans.answered()
        if backfill and not plan.full_history:
            report.note(symbol, f"free plan: a backfill reaches the latest {COMPACT_SESSIONS} sessions only")
        elif not plan.full_history and (cursor is None or (now.date() - cursor).days >= COMPACT_REACH_DAYS):
            report.note(symbol, f"daily history limited by the free plan to the latest {COMPACT_SESSIONS} sessions")
        return table

    def fetch_extra(job: tuple[str, str]) -> object:
        symbol, function = job
        response = query({"function": function, "symbol": symbol})
        try:
            payload = json_body(response, PROVIDER, symbol)
            if function == MONTHLY:
                return kept_rows(daily_table(payload, symbol, MONTHLY))
            return corporate_action_rows(payload, symbol, function)
        except ProviderQuotaError:
            budget.exhaust("day")
            raise

    # `deduplicated`: each symbol is fetched once per load and its dates are the keys of one
    # JSON object, so (symbol, date) is unique in every load: the merge skips its dedup window.
    @dlt.resource(
        name="alpha_vantage_daily", write_disposition={**MERGE, "deduplicated": True}, primary_key=("symbol", "date")
    )
    def daily():
        if not settings.alpha_vantage_api_key:
            raise_unconfigured(report, symbols)
            return
        state = dlt.current.resource_state()
        cursors = state.setdefault("last_date", {})
        finished = state.setdefault("backfills", {}).setdefault(backfill.job_id, []) if backfill else []
        plans = PlanMemory(state, settings, now, report, budget)

        def cursor_of(symbol: str) -> dt.date | None:
            return dt.date.fromisoformat(cursors[symbol]) if symbol in cursors else None

        todo = [symbol for symbol in dict.fromkeys(symbols) if symbol not in finished]
        # An unknown plan is learned on the first symbol alone: one refused call at most.
        waves = [("plan probe", todo[:1]), ("daily", todo[1:])] if not plans.known else [("daily", todo)]
        # Several symbols per item: dlt's per-item work (hints validated, schema computed and
        # merged, a writer flush) cost more than the item's rows. The cursors move before
        # their rows are yielded, but state is only saved with the load that holds them.
        batch: list[pa.Table] = []
        for index, (label, wave) in enumerate(waves):
            fetched = fetch_each(
                wave, lambda s: fetch_daily(s, cursor_of(s), plans), report, settings.workers, secrets, label
            )
            for symbol, table in fetched:
                if table.num_rows:
                    batch.append(table)
                    if sum(t.num_rows for t in batch) >= BATCH_ROWS:
                        yield dlt.mark.with_hints(pa.concat_tables(batch), DAILY_HINTS, create_table_variant=True)
                        batch = []
                if backfill:
                    finished.append(symbol)
                elif table.num_rows:
                    cursors[symbol] = pc.max(table["date"]).as_py().isoformat()
                report.succeed()
            if report.deferred or report.blocked:
                reason = "not fetched: configuration error" if report.blocked else next(iter(report.deferred.values()))
                for symbol in (s for _, later in waves[index + 1 :] for s in later):
                    report.defer(symbol, reason)
                break
        if batch:
            yield dlt.mark.with_hints(pa.concat_tables(batch), DAILY_HINTS, create_table_variant=True)
        report.plan = f"{plans.name or 'unknown'} ({plans.source})"
        if plans.name == "free" and not backfill and not report.deferred and not report.blocked:
            yield from free_extras(state, [s for s in todo if s not in report.failures])

    def free_extras(state: dict, symbols: list[str]):
        """Corporate actions due for a refresh, then monthly histories not fetched yet; each
        answer is remembered by function and symbol, so a day cut short resumes where it was."""
        fetched = state.setdefault("extras_fetched", {})
        refresh = {SPLITS: CORPORATE_ACTIONS_REFRESH_DAYS, DIVIDENDS: CORPORATE_ACTIONS_REFRESH_DAYS, MONTHLY: None}

        def due(symbol: str, function: str) -> bool:
            last = fetched.get(f"{function}:{symbol}")
            if last is None:
                return True
            return (
                refresh[function] is not None and (now.date() - dt.date.fromisoformat(last)).days >= refresh[function]
            )

        jobs = [(s, f) for f in (SPLITS, DIVIDENDS) for s in symbols if due(s, f)]
        jobs += [(s, MONTHLY) for s in symbols if due(s, MONTHLY)]
        names = {f"{s} ({f})": (s, f) for s, f in jobs}
        extras = fetch_each(
            names, lambda n: fetch_extra(names[n]), report, settings.workers, secrets, "splits, dividends, monthly"
        )
        for name, rows in extras:
            symbol, function = names[name]
            if len(rows):
                yield dlt.mark.with_hints(rows, EXTRA_TABLES[function], create_table_variant=True)
            fetched[f"{function}:{symbol}"] = now.date().isoformat()

    return daily


# Symbols whose daily bars all came from the free plan's compact series, and the monthly history
# that reaches further back.
PLAN_LIMITS_SQL = """
select
    daily.symbol,
    min(daily.date) as daily_since,
    count(*) as daily_sessions,
    min(monthly.first_month) as monthly_since
from raw.alpha_vantage_daily as daily
left join (
    select symbol, min(date) as first_month from raw.alpha_vantage_monthly group by symbol
) as monthly on daily.symbol = monthly.symbol
group by daily.symbol
having max(daily.function) = 'TIME_SERIES_DAILY' and min(daily.function) = 'TIME_SERIES_DAILY'
order by daily.symbol
"""


def base_url(settings: Settings) -> str:
    return settings.alpha_vantage_base_url or BASE_URL


def secret_values(settings: Settings) -> list[str | None]:
    """The key to redact from messages; `demo` is Alpha Vantage's public example key, not a secret."""
    key = settings.alpha_vantage_api_key
    return [key] if key != "demo" else []


def run_budget(settings: Settings, now: dt.datetime) -> RateBudget:
    return provider_budget(PROVIDER, settings, now, plan_limits(settings.alpha_vantage_plan), base_url(settings))


def equity_symbols(assets: list[Asset]) -> list[str]:
    return [
        a.alpha_vantage_symbol for a in assets if a.is_active and a.asset_type == "equity" and a.alpha_vantage_symbol
    ]


PROVIDER_SPEC = Provider(
    name=PROVIDER,
    env_prefix="ALPHAVANTAGE",
    emulator="extract.emulator.alpha_vantage",
    source=alpha_vantage_source,
    asset_ids=equity_symbols,
    budget=run_budget,
    raw_tables=("alpha_vantage_daily", "alpha_vantage_splits", "alpha_vantage_dividends", "alpha_vantage_monthly"),
    asset_types=("equity",),
    backfill_resource="alpha_vantage_daily",
    secrets=lambda settings: secret_values(settings),
    arrow=True,
    status_queries={"Daily history limited by the free plan": PLAN_LIMITS_SQL},
)


def raise_unconfigured(report: ProviderReport, symbols: list[str]) -> None:
    """No key: one configuration error, no call (the API answers a missing key with an error)."""
    report.block(
        ConfigurationError(
            PROVIDER, None, f"{KEY_SETTING} is not set: claim a free key at {FREE_KEY_URL} and export {KEY_SETTING}"
        ),
        symbols,
    )


def _after(cursor: dt.date | None, lag_days: int) -> dt.date | None:
    return cursor - dt.timedelta(days=lag_days) if cursor is not None else None


def payload_table(
    payload: object,
    symbol: str,
    function: str,
    first: dt.date | None = None,
    last: dt.date | None = None,
    after: dt.date | None = None,
) -> pa.Table:
    """The rows of a decoded payload this load keeps (see `kept_rows`)."""
    return kept_rows(daily_table(payload, symbol, function), first, last, after)


def body_table(body: bytes, symbol: str, function: str, *keep: dt.date | None) -> pa.Table | None:
    """`payload_table` of an HTTP-200 body: a well-formed series by the typed decoder, anything
    else decoded and classified by `daily_table`; None when orjson refuses the body, for the
    caller's lenient decoder."""
    table = typed_daily_table(body, symbol, function)
    if table is None:
        try:
            payload = dlt_json.loadb(body)
        except ValueError:
            return None
        table = daily_table(payload, symbol, function)
    return kept_rows(table, *keep)


def kept_rows(
    table: pa.Table, first: dt.date | None = None, last: dt.date | None = None, after: dt.date | None = None
) -> pa.Table:
    """The rows this load keeps (a backfill's [first, last], or the days after `after`), with
    dlt's row ids: added here rather than by dlt's normalize, which would read and rewrite
    every parquet file to add them."""
    dates = table["date"]
    if first is not None:
        table = table.filter(pc.and_(pc.greater_equal(dates, first), pc.less_equal(dates, last)))
    elif after is not None:
        table = table.filter(pc.greater(dates, after))
    return table.append_column(DLT_ID, row_ids(table.num_rows))
