"""A fixed-size time series in numpy arrays: appends are O(1), the chart reads a view in time order."""

from __future__ import annotations

import numpy as np


class RingBuffer:
    def __init__(self, capacity: int = 7_200) -> None:
        self.times = np.empty(capacity)
        self.values = np.empty(capacity)
        self.capacity = capacity
        self.count = 0
        self.appended = 0
        """Samples appended since creation: a chart redraws only when this moved."""
        self._next = 0

    def append(self, at: float, value: float) -> None:
        self.times[self._next] = at
        self.values[self._next] = value
        self._next = (self._next + 1) % self.capacity
        self.count = min(self.count + 1, self.capacity)
        self.appended += 1

    def series(self) -> tuple[np.ndarray, np.ndarray]:
        """(times, values), oldest first."""
        if self.count < self.capacity:
            return self.times[: self.count], self.values[: self.count]
        order = np.r_[self._next : self.capacity, 0 : self._next]
        return self.times[order], self.values[order]
