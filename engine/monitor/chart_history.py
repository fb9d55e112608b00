"""The session's memory of the real book over time: each mark, and each account's equity and margin ratio,
in ring buffers for the charts; and the samples due for the book's stored history."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from engine.margin.model import PriceKey
from engine.margin.risk import BookRisk
from engine.monitor.ring_buffer import RingBuffer

MARKS_EVERY_S = 0.5
"""Chart samples of each mark at most twice a second: the ring buffer then holds an hour."""
MARKS_CAPACITY = 7_200
ACCOUNT_CAPACITY = 86_400
"""A day of equity and margin-ratio samples at one a second."""
HISTORY_EVERY_S = 1.0
"""Account samples in memory, and samples for the stored history, at most once a second."""

StoredSample = tuple[str, float, float]
"""(series, wall-clock seconds, value) as engine.storage's history takes them: 'mark:EXCHANGE:SYMBOL',
'equity:ACCOUNT', 'margin_ratio:ACCOUNT'."""
StoredAccountHistory = tuple[list[tuple[float, float]], dict[float, float]]
"""An account's stored equity samples (time, value) and its margin ratios by time."""


def _buffer(buffers: dict, key: object, capacity: int) -> RingBuffer:
    """The buffer of this key, made (empty, of this capacity) when it has none yet: not one made and thrown away
    at each sample, as setdefault(key, RingBuffer(...)) did."""
    buffer = buffers.get(key)
    if buffer is None:
        buffer = buffers[key] = RingBuffer(capacity)
    return buffer


class ChartHistory:
    """Ring buffers of the real book's marks (by price key) and accounts' equity and cross margin ratio
    (by account name). Figures a missing mark hides are never sampled."""

    def __init__(self) -> None:
        self.marks: dict[PriceKey, RingBuffer] = {}
        self.equity: dict[str, RingBuffer] = {}
        self.ratio: dict[str, RingBuffer] = {}
        self.account_sampled = 0.0
        """When the accounts were last sampled (a chart redraws when this moves)."""
        self._marks_sampled: dict[PriceKey, float] = {}
        self._stored_at = 0.0

    def record(self, risk: BookRisk, marks: Mapping[PriceKey, float], changed: Iterable[PriceKey], now: float) -> None:
        """Sample the marks that changed (at most twice a second each) and the accounts (once a second)."""
        sampled = self._marks_sampled
        for key in changed:
            if key in marks and now - sampled.get(key, 0.0) >= MARKS_EVERY_S:
                sampled[key] = now
                _buffer(self.marks, key, MARKS_CAPACITY).append(now, marks[key])
        if now - self.account_sampled < HISTORY_EVERY_S:
            return
        self.account_sampled = now
        for a in risk.accounts:
            if a.missing:  # no sample made of a missing mark
                continue
            name = a.account.name
            _buffer(self.equity, name, ACCOUNT_CAPACITY).append(now, a.equity)
            ratio = float("nan") if a.margin_ratio is None else a.margin_ratio
            _buffer(self.ratio, name, ACCOUNT_CAPACITY).append(now, ratio)

    def stored_samples(self, risk: BookRisk, marks: Mapping[PriceKey, float], now: float) -> list[StoredSample]:
        """The samples due for the stored history (at most once a second; [] in between)."""
        if now - self._stored_at < HISTORY_EVERY_S:
            return []
        self._stored_at = now
        samples = [(f"mark:{exchange}:{symbol}", now, mark) for (exchange, symbol), mark in marks.items()]
        for a in risk.accounts:
            if a.missing:
                continue
            samples.append((f"equity:{a.account.name}", now, a.equity))
            if a.margin_ratio is not None:
                samples.append((f"margin_ratio:{a.account.name}", now, a.margin_ratio))
        return samples

    def seed_accounts(self, stored: Mapping[str, StoredAccountHistory]) -> None:
        """Start the account series from the history stored with the book."""
        for name, (equity, ratios) in stored.items():
            e_buffer = _buffer(self.equity, name, ACCOUNT_CAPACITY)
            r_buffer = _buffer(self.ratio, name, ACCOUNT_CAPACITY)
            for at, value in equity:
                e_buffer.append(at, value)
                r_buffer.append(at, ratios.get(at, float("nan")))

    def seed_marks(self, stored: Mapping[PriceKey, Sequence[tuple[float, float]]]) -> None:
        """Put the marks stored with the book before the ones seen since the start."""
        for key, samples in stored.items():
            buffer = RingBuffer(MARKS_CAPACITY)
            for at, mark in samples:
                buffer.append(at, mark)
            if key in self.marks:
                for at, mark in zip(*self.marks[key].series(), strict=True):
                    buffer.append(float(at), float(mark))
            self.marks[key] = buffer
