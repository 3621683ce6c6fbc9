"""Deterministic synthetic markets for the emulator.

Each series is a pure function of its asset's name (seeded RNG), so any date's values are
the same in every run, on every machine, however far the clock has moved: re-running a day
must reproduce it exactly, which is what idempotency tests rely on.

- Crypto trades every hour of every day: a mean-reverting log-price walk (so prices stay at
  realistic levels for years) with hourly USD volumes. One token trades below 1e-8 USD.
- Equities trade on their own exchange's sessions only (`extract.calendars`: New York,
  London, Toronto, Shanghai), in their own currency (London in pence), with real split dates and
  quarterly dividends; the "actual" (unadjusted) prices jump at splits and ex-dates, and
  `adjusted_closes` derives the adjusted close the way Alpha Vantage and CRSP do.
- The Fear & Greed index is a daily bounded walk from its real start (2018-02-01).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from functools import cache

from extract.calendars import DEFAULT_EXCHANGE, sessions

UTC = dt.UTC
CRYPTO_EPOCH = dt.datetime(2018, 1, 1, tzinfo=UTC)
EQUITY_EPOCH = dt.date(2005, 1, 3)
FEAR_GREED_EPOCH = dt.date(2018, 2, 1)
HORIZON = dt.datetime(2031, 1, 1, tzinfo=UTC)
HOUR_MS = 3_600_000
HOURS_PER_YEAR = 24 * 365
MEAN_REVERSION_PER_HOUR = math.log(2) / HOURS_PER_YEAR  # half-life of one year


@dataclass(frozen=True)
class CoinProfile:
    coin_id: str
    symbol: str
    name: str
    price_level: float
    annual_vol: float
    hourly_usd_volume: float
    circulating_supply: float
    max_supply: float | None
    listed: dt.date = dt.date(2018, 1, 1)


@dataclass(frozen=True)
class EquityProfile:
    symbol: str
    name: str
    first_close: float
    annual_vol: float
    daily_volume: float
    dividend_yield: float = 0.0
    splits: dict[dt.date, float] = field(default_factory=dict)
    # Trading suspensions (first and last day, inclusive): sessions of its exchange without a bar.
    suspensions: tuple[tuple[dt.date, dt.date], ...] = ()
    exchange: str = DEFAULT_EXCHANGE


COINS = (
    CoinProfile("bitcoin", "btc", "Bitcoin", 30_000.0, 0.60, 8e8, 19.4e6, 21e6),
    CoinProfile("ethereum", "eth", "Ethereum", 1_800.0, 0.75, 4e8, 120e6, None),
    CoinProfile("solana", "sol", "Solana", 40.0, 1.00, 1e8, 400e6, None, dt.date(2020, 4, 10)),
    CoinProfile("cardano", "ada", "Cardano", 0.45, 0.85, 2e7, 35e9, 45e9),
    CoinProfile("dogecoin", "doge", "Dogecoin", 0.08, 0.95, 3e7, 140e9, None),
    CoinProfile("baby-doge-coin", "babydoge", "Baby Doge Coin", 1.5e-9, 0.80, 2e5, 1.6e17, 4.2e17, dt.date(2021, 6, 1)),
)

EQUITIES = (
    EquityProfile("AAPL", "Apple Inc.", 4.5, 0.30, 9e7, 0.006, {dt.date(2014, 6, 9): 7.0, dt.date(2020, 8, 31): 4.0}),
    EquityProfile("MSFT", "Microsoft Corporation", 27.0, 0.25, 4e7, 0.010),
    EquityProfile("TSLA", "Tesla, Inc.", 20.0, 0.55, 3e7, 0.0, {dt.date(2020, 8, 31): 5.0, dt.date(2022, 8, 25): 3.0}),
    EquityProfile(
        "NVDA", "NVIDIA Corporation", 20.0, 0.45, 5e7, 0.001, {dt.date(2021, 7, 20): 4.0, dt.date(2024, 6, 10): 10.0}
    ),
    EquityProfile("IBM", "International Business Machines", 95.0, 0.22, 5e6, 0.040),
    EquityProfile("SPY", "SPDR S&P 500 ETF Trust", 120.0, 0.17, 8e7, 0.015),
    # Priced in pence (GBX), as London quotes.
    EquityProfile("TSCO.LON", "Tesco PLC", 250.0, 0.22, 2e7, 0.04, exchange="XLON"),
    EquityProfile("SHOP.TRT", "Shopify Inc.", 30.0, 0.6, 3e6, 0.0, {dt.date(2022, 6, 29): 10.0}, exchange="XTSE"),
    EquityProfile("600104.SHH", "SAIC Motor Corporation", 15.0, 0.3, 1e7, 0.03, exchange="XSHG"),
)

FEAR_GREED_BANDS = ((26, "Extreme Fear"), (47, "Fear"), (55, "Neutral"), (76, "Greed"), (101, "Extreme Greed"))


def fear_greed_classification(value: int) -> str:
    """Alternative.me's labels as observed in a year of real responses: 0-25, 26-46, 47-54, 55-75, 76-100."""
    return next(label for upper, label in FEAR_GREED_BANDS if value < upper)


@dataclass(frozen=True)
class CoinSeries:
    """Hourly path of one coin: index i is the hour `first_hour + i` after CRYPTO_EPOCH."""

    profile: CoinProfile
    first_hour: int
    prices: list[float]
    volumes: list[float]

    def hour_index(self, ts: dt.datetime) -> int:
        return int((ts - CRYPTO_EPOCH).total_seconds() // 3600) - self.first_hour

    def timestamp_ms(self, i: int) -> int:
        """Real CoinGecko points are never exactly periodic (the recorded market_chart in
        shared/fixtures/providers/coingecko): an hourly one sits 1 s to 2 min past its hour,
        drawn per coin and hour, so the same in every run."""
        jitter = random.Random(f"{self.profile.coin_id}:{i}").randrange(1_000, 120_000)
        return int(CRYPTO_EPOCH.timestamp() * 1000) + (self.first_hour + i) * HOUR_MS + jitter

    def volume_24h(self, i: int) -> float:
        return sum(self.volumes[max(0, i - 23) : i + 1])

    def supply(self, i: int) -> float:
        """Circulating supply creeps up by 2% a year, capped by max supply."""
        grown = self.profile.circulating_supply * (1 + 0.02 * (i - len(self.prices) / 2) / HOURS_PER_YEAR)
        return min(grown, self.profile.max_supply or math.inf)


@dataclass(frozen=True)
class EquitySession:
    date: dt.date
    open: float
    high: float
    low: float
    close: float
    volume: int
    dividend: float
    split: float


class SyntheticMarket:
    """The emulator's universe. Unknown ids and symbols are answered as the providers do."""

    def __init__(self, coins=COINS, equities=EQUITIES):
        self.coins = {c.coin_id: c for c in coins}
        self.equities = {e.symbol: e for e in equities}
        self._fear_greed: list[tuple[dt.date, int]] = []

    def coin(self, coin_id: str) -> CoinSeries | None:
        profile = self.coins.get(coin_id)
        if profile is None:
            return None
        return self._generate_coin(profile)

    def equity(self, symbol: str) -> list[EquitySession] | None:
        profile = self.equities.get(symbol)
        if profile is None:
            return None
        return _walked_equity(profile)

    def fear_greed(self) -> list[tuple[dt.date, int]]:
        if not self._fear_greed:
            self._fear_greed = self._generate_fear_greed()
        return self._fear_greed

    @staticmethod
    @cache
    def _generate_coin(profile: CoinProfile) -> CoinSeries:
        """Deterministic per profile, so generated once per process: every emulator of the
        process (each offline run starts one) answers from the same immutable series."""
        listed = dt.datetime.combine(max(profile.listed, CRYPTO_EPOCH.date()), dt.time(), UTC)
        first_hour = int((listed - CRYPTO_EPOCH).total_seconds() // 3600)
        hours = int((HORIZON - listed).total_seconds() // 3600)
        rng = random.Random(f"coin:{profile.coin_id}")
        sigma = profile.annual_vol / math.sqrt(HOURS_PER_YEAR)
        level = math.log(profile.price_level)
        log_price = level
        prices, volumes = [], []
        for _ in range(hours):
            log_price += MEAN_REVERSION_PER_HOUR * (level - log_price) + sigma * rng.gauss(0.0, 1.0)
            prices.append(math.exp(log_price))
            volumes.append(profile.hourly_usd_volume * math.exp(0.35 * rng.gauss(0.0, 1.0)))
        return CoinSeries(profile, first_hour, prices, volumes)

    @staticmethod
    def _generate_fear_greed() -> list[tuple[dt.date, int]]:
        rng = random.Random("fear-greed")
        value = 50.0
        days = (HORIZON.date() - FEAR_GREED_EPOCH).days
        series = []
        for offset in range(days):
            value += 0.15 * (50 - value) + 9 * rng.gauss(0.0, 1.0)
            value = min(100.0, max(0.0, value))
            series.append((FEAR_GREED_EPOCH + dt.timedelta(days=offset), round(value)))
        return series


# Per process, as the coins' series; keyed by the profile's repr (its splits are a dict: unhashable).
_WALKED: dict[str, list[EquitySession]] = {}


def _walked_equity(profile: EquityProfile) -> list[EquitySession]:
    key = repr(profile)
    if key not in _WALKED:
        days = sessions(profile.exchange, EQUITY_EPOCH, HORIZON.date(), weekdays_beyond=True)
        _WALKED[key] = walk_equity(profile, days)
    return _WALKED[key]


def walk_equity(profile: EquityProfile, sessions: list[dt.date]) -> list[EquitySession]:
    """One equity's unadjusted sessions: a log walk on today's share basis, scaled up by every
    split still to come (so the history drops at each split like a real one), with quarterly
    dividends taken off the price on their ex-dates. Deterministic per symbol."""
    rng = random.Random(f"equity:{profile.symbol}")
    daily_vol = profile.annual_vol / math.sqrt(252)
    drift = 0.10 / 252 - daily_vol**2 / 4
    adjusted_close = profile.first_close  # on today's share basis, before dividends
    paid: set[tuple[int, int]] = set()
    walked = []
    for day in sessions:
        if any(first <= day <= last for first, last in profile.suspensions):
            continue
        shares_factor = math.prod(ratio for split_day, ratio in profile.splits.items() if split_day > day)
        dividend = 0.0
        month = (day.year, day.month)
        if profile.dividend_yield and day.month in (2, 5, 8, 11) and day.day >= 7 and month not in paid:
            paid.add(month)
            dividend = round(adjusted_close * shares_factor * profile.dividend_yield / 4, 2)
        base = adjusted_close - dividend / shares_factor
        open_ = base * math.exp(0.25 * daily_vol * rng.gauss(0.0, 1.0))
        adjusted_close = base * math.exp(drift + daily_vol * rng.gauss(0.0, 1.0))
        high = max(open_, adjusted_close) * (1 + abs(0.4 * daily_vol * rng.gauss(0.0, 1.0)))
        low = min(open_, adjusted_close) * (1 - abs(0.4 * daily_vol * rng.gauss(0.0, 1.0)))
        volume = int(profile.daily_volume * math.exp(0.3 * rng.gauss(0.0, 1.0)) / shares_factor)
        prices = (round(price * shares_factor, 4) for price in (open_, high, low, adjusted_close))
        walked.append(EquitySession(day, *prices, volume, dividend, profile.splits.get(day, 1.0)))
    return walked


def adjusted_closes(sessions: list[EquitySession]) -> list[float]:
    """Adjusted closes as Alpha Vantage computes them relative to the last session given:
    each close is multiplied by (1 - dividend / previous close) for every later ex-date and
    divided by every later split coefficient."""
    factor = 1.0
    adjusted = [0.0] * len(sessions)
    for index in range(len(sessions) - 1, -1, -1):
        session = sessions[index]
        adjusted[index] = session.close * factor
        if session.dividend and index:
            factor *= 1 - session.dividend / sessions[index - 1].close
        factor /= session.split
    return adjusted
