"""Price and equity history stored with the book: samples appended by the writer thread, read for the charts.

History is a record, not the book: its rows are outside the book's checksum (engine.storage.checksum)
and its transactions leave the checksum alone.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from engine.storage.connection import Connection


class HistoryRecords(Connection):
    """The `history` table: (series, time, value) samples; series names are e.g. 'mark:<exchange>:<symbol>',
    'equity:<account>', 'margin_ratio:<account>'; times are Unix seconds."""

    def record_history(self, samples: Sequence[tuple[str, float, float]]) -> None:
        """Append (series, time, value) samples in one transaction (call from a writer thread, not the GUI).

        Raises StorageError."""
        with self.transaction(changes=()) as c:
            c.executemany("INSERT OR REPLACE INTO history (series, at, value) VALUES (?, ?, ?)", samples)

    def history(self, series: str, since: float = 0.0) -> list[tuple[float, float]]:
        """The samples (time, value) of one series from `since` (Unix seconds) on, oldest first."""
        return [
            (at, v)
            for at, v in self._read(
                "SELECT at, value FROM history WHERE series = ? AND at >= ? ORDER BY at", (series, since)
            )
        ]

    def thin_history(
        self, now: float | None = None, policy: Mapping[float, float] | None = None, keep_for: float = 365 * 86_400
    ) -> int:
        """Thin old samples so the file stays small after months: keep one sample per bucket by age.

        policy maps an age (seconds) to the bucket width used beyond it; the default keeps full
        resolution for a day, one sample a minute up to 30 days, one an hour after that, and drops
        samples older than a year. Returns the number of rows removed. Raises StorageError.
        """
        now = time.time() if now is None else now
        policy = policy or {86_400: 60, 30 * 86_400: 3_600}
        removed = 0
        with self.transaction(changes=()) as c:
            removed += c.execute("DELETE FROM history WHERE at < ?", (now - keep_for,)).rowcount
            ages = sorted(policy)
            for i, age in enumerate(ages):
                bucket = policy[age]
                older_than = now - age
                newer_than = now - ages[i + 1] if i + 1 < len(ages) else now - keep_for
                # Keep the first sample of each bucket: drop a row when its series has an earlier one in
                # the same bucket (a range seek on the primary key, so months of samples thin quickly).
                removed += c.execute(
                    "DELETE FROM history AS h WHERE h.at < :old AND h.at >= :new AND EXISTS ("
                    "  SELECT 1 FROM history AS k WHERE k.series = h.series"
                    "  AND k.at >= CAST(h.at / :bucket AS INTEGER) * :bucket AND k.at < h.at)",
                    {"old": older_than, "new": newer_than, "bucket": bucket},
                ).rowcount
        return removed
