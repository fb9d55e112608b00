"""A seeded simulated feed for the demo and for working without a network: a random walk with jumps.

Every price it writes is labelled `simulated`, so it can never pass for a live one.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping

from engine.margin.model import PriceKey
from engine.market.feeds.feed_thread import FeedThread
from engine.market.feeds.state import FeedState, FeedStatus
from engine.market.prices import PriceSource, PriceStore, Tick


class RandomWalk:
    """Log-normal steps with rare jumps; deterministic for a given seed."""

    def __init__(
        self,
        start: Mapping[PriceKey, float],
        seed: int = 1,
        volatility: float = 0.6,
        jump_probability: float = 0.002,
        jump_size: float = 0.03,
    ) -> None:
        self.prices = dict(start)
        self.rng = random.Random(seed)
        self.volatility = volatility  # annualised-looking, scaled per step below
        self.jump_probability = jump_probability
        self.jump_size = jump_size

    def step(self, dt: float) -> dict[PriceKey, float]:
        # Annual volatility scaled to the step, sped up 30x so that a demo moves visibly within a
        # minute (about 0.3% a step of 1 s, the same spread a minute whatever the step) without swinging wildly.
        sigma = self.volatility * math.sqrt(dt / (365 * 86_400)) * 30
        for key, price in self.prices.items():
            move = self.rng.gauss(0.0, sigma)
            if self.rng.random() < self.jump_probability:
                move += self.rng.choice((-1, 1)) * self.jump_size
            self.prices[key] = price * math.exp(move)
        return dict(self.prices)


DEMO_INTERVAL_S = 1.0
"""A step a second: visibly live, and each step repaints the window (4 a second kept an idle demo at 6.5% of
a core; tests/benchmarks/bench_idle.py)."""


class SimulatedFeed(FeedThread):
    """Publishes a RandomWalk into the store every `interval` seconds on its own thread."""

    def __init__(
        self, store: PriceStore, start: Mapping[PriceKey, float], *, seed: int = 1, interval: float = DEMO_INTERVAL_S
    ) -> None:
        self.store = store
        self.walk = RandomWalk(start, seed)
        self.interval = interval
        self.exchanges = sorted({key[0] for key in start})
        state = FeedState("demo prices", FeedStatus.SIMULATED, transport="simulated random walk")
        super().__init__(state, "feed-simulated")

    def start(self) -> None:
        """The walk's first prices at once, then a step every `interval` seconds on the thread."""
        self.store.publish(self._ticks(self.walk.prices), PriceSource.SIMULATED)
        super().start()

    def stop(self, timeout: float = 5.0) -> bool:
        """As FeedThread.stop, with a shorter default wait (a step is at most `interval` away)."""
        return super().stop(timeout)

    def _ticks(self, prices: Mapping[PriceKey, float]) -> list[Tick]:
        now = time.time()
        return [Tick(key, price, exchange_time=now) for key, price in prices.items()]

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.store.publish(self._ticks(self.walk.step(self.interval)), PriceSource.SIMULATED)
        self._state.update(status=FeedStatus.OFFLINE)
