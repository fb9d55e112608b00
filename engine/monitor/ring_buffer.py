"""A bounded time series in numpy arrays: appends are O(1) amortised, the chart reads a view in time order."""

from __future__ import annotations

import numpy as np

FIRST_SIZE = 256
"""Samples the arrays hold at first; they double as samples come, up to the capacity. A day's capacity per
account was reserved up front before (2.8 MB an account: 20,000 accounts took 2.6 GB in `watch`)."""


class RingBuffer:
    """The last `capacity` (time, value) samples, float64: times in wall-clock seconds, values in the
    caller's unit; the oldest is overwritten when full. Memory grows with the samples held, not the capacity."""

    def __init__(self, capacity: int = 7_200) -> None:
        self.capacity = capacity
        size = min(capacity, FIRST_SIZE)
        self.times = np.empty(size)
        self.values = np.empty(size)
        self.count = 0
        self.appended = 0
        """Samples appended since creation: a chart redraws only when this moved."""
        self._next = 0

    def append(self, at: float, value: float) -> None:
        """Add one sample (at: seconds), overwriting the oldest when full."""
        if self._next == len(self.times) and len(self.times) < self.capacity:  # not yet wrapped: grow in place
            size = min(2 * len(self.times), self.capacity)
            self.times = np.resize(self.times, size)
            self.values = np.resize(self.values, size)
        self.times[self._next] = at
        self.values[self._next] = value
        self._next = (self._next + 1) % self.capacity
        self.count = min(self.count + 1, self.capacity)
        self.appended += 1

    def series(self) -> tuple[np.ndarray, np.ndarray]:
        """(times, values), oldest first: two float64 arrays of shape (count,), views while not yet full."""
        if self.count < self.capacity:
            return self.times[: self.count], self.values[: self.count]
        order = np.r_[self._next : self.capacity, 0 : self._next]
        return self.times[order], self.values[order]
