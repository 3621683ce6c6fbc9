"""A large generated universe for benchmarks: thousands of equities (and coins) with a fixed
number of sessions each, and an emulator that serves pre-rendered payloads from a directory.

Additive to `market.py` and `server.py` (their behaviour is unchanged): `GeneratedMarket` is a
`SyntheticMarket` whose equities are generated profiles (`E0001`, `E0002`, ...) with exactly
`days` NYSE sessions ending at the last completed session; `PayloadDirEmulator` answers Alpha
Vantage `outputsize=full` calls for symbols found in `payload_dir` with the file's bytes, so a
benchmark measures the client and the load, not payload rendering in the emulator.

    market = GeneratedMarket.generated(n_equities=2000, days=3650)
    write_av_payloads(market, Path("payloads"), now)       # one JSON file per symbol
    with PayloadDirEmulator(Path("payloads"), market=market) as emu: ...
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from extract.calendars import DEFAULT_EXCHANGE, last_closed_session, sessions
from extract.emulator import payloads
from extract.emulator.answer import Answer
from extract.emulator.market import COINS, CoinProfile, EquityProfile, EquitySession, SyntheticMarket, walk_equity
from extract.emulator.server import Emulator, EmulatorConfig

UTC = dt.UTC
AV_FUNCTION = "TIME_SERIES_DAILY_ADJUSTED"


def equity_symbol(index: int) -> str:
    return f"E{index:04d}"


def coin_id(index: int) -> str:
    return f"coin-{index:04d}"


class GeneratedMarket(SyntheticMarket):
    """`n_equities` generated equities with `days` sessions each (the last one the last
    completed session at `now`), plus `n_coins` generated coins (hourly, like the built-in ones).
    Deterministic: every profile and path is seeded by its symbol."""

    def __init__(self, equities, coins, days: int, now: dt.datetime) -> None:
        super().__init__(coins=coins, equities=equities)
        self._equity_series: dict[str, list[EquitySession]] = {}
        self.days = days
        last = last_closed_session(DEFAULT_EXCHANGE, now)
        # ~252 sessions a year: 3,650 sessions need ~14.5 years of calendar.
        start = last - dt.timedelta(days=int(days * 366 / 252) + 30)
        self.sessions = sessions(DEFAULT_EXCHANGE, start, last)[-days:]

    @classmethod
    def generated(
        cls, n_equities: int = 0, n_coins: int = 0, days: int = 3650, now: dt.datetime | None = None
    ) -> GeneratedMarket:
        now = now or dt.datetime.now(UTC)
        equities = [_equity_profile(equity_symbol(i)) for i in range(1, n_equities + 1)]
        coins = [_coin_profile(coin_id(i)) for i in range(1, n_coins + 1)] if n_coins else list(COINS)
        return cls(equities, coins, days, now)

    def equity(self, symbol: str) -> list[EquitySession] | None:
        profile = self.equities.get(symbol)
        if profile is None:
            return None
        if symbol not in self._equity_series:
            self._equity_series[symbol] = walk_equity(profile, self.sessions)
        return self._equity_series[symbol]


def _equity_profile(symbol: str) -> EquityProfile:
    rng = random.Random(f"profile:{symbol}")
    splits = {}
    if rng.random() < 0.2:  # one in five has had a split in the window
        year = rng.randrange(2014, 2025)
        splits[dt.date(year, rng.randrange(1, 12), 15)] = float(rng.choice((2, 3, 4)))
    return EquityProfile(
        symbol=symbol,
        name=f"Generated Equity {symbol}",
        first_close=round(rng.uniform(5, 300), 2),
        annual_vol=rng.uniform(0.15, 0.6),
        daily_volume=rng.uniform(1e5, 5e7),
        dividend_yield=rng.choice((0.0, 0.0, 0.01, 0.02, 0.04)),
        splits=splits,
    )


def _coin_profile(coin: str) -> CoinProfile:
    rng = random.Random(f"profile:{coin}")
    return CoinProfile(
        coin, coin.replace("-", "")[:8], f"Generated Coin {coin}", rng.uniform(0.01, 5000), rng.uniform(0.5, 1.2),
        rng.uniform(1e5, 1e8), rng.uniform(1e6, 1e10), None,
    )  # fmt: skip


def av_payload_bytes(market: GeneratedMarket, symbol: str, now: dt.datetime, outputsize: str = "full") -> bytes:
    body = payloads.av_daily(symbol, market.equity(symbol), AV_FUNCTION, outputsize, now)
    return payloads.encode("alpha_vantage", body)


def write_av_payloads(market: GeneratedMarket, directory: Path, now: dt.datetime, symbols=None) -> list[Path]:
    """One `<symbol>.json` per equity (the `outputsize=full` adjusted payload), as served."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for symbol in symbols or sorted(market.equities):
        path = directory / f"{symbol}.json"
        path.write_bytes(av_payload_bytes(market, symbol, now))
        written.append(path)
    return written


class PayloadDirEmulator(Emulator):
    """An `Emulator` that serves Alpha Vantage `outputsize=full` adjusted calls for symbols with
    a `<symbol>.json` in `payload_dir` straight from the file (rate limits still apply);
    everything else as the base emulator does."""

    def __init__(self, payload_dir: Path, market: SyntheticMarket | None = None, config=None, **kwargs) -> None:
        super().__init__(market=market, config=config or EmulatorConfig(), **kwargs)
        self.payload_dir = Path(payload_dir)

    def respond(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        if (
            path == "/query"
            and query.get("apikey")
            and query.get("function") == AV_FUNCTION
            and query.get("outputsize") == "full"
        ):
            file = self.payload_dir / f"{query.get('symbol', '').upper()}.json"
            if file.is_file():
                limited = self.admit("alpha_vantage")
                if limited:
                    return self.rate_limited("alpha_vantage", limited, query)
                return Answer(200, file.read_bytes())
        return super().respond(path, query, headers)
