"""The funding lines of the position chart and the risk ladder (engine.monitor.funding_notes), made from the
session's frame and rates, once per subject and second: the chart is redrawn on every refresh (ten a second),
and a line of figures per day and days to warning needs no more; new rates or a new book make them again at
once. Each account's own warning ratio (its thresholds override) is the one projected to."""

from __future__ import annotations

import time

from engine.margin.model import PriceKey
from engine.margin.risk import PositionRisk
from engine.monitor.frame import Frame
from engine.monitor.funding_notes import account_funding, account_note, position_note
from engine.monitor.session import WatchSession

MEMO_SECONDS = 1.0
"""How long a line is kept while the book and the rates stay the same."""


class FundingNotes:
    """position() and account() lines of the session's shown book (a preview's figures while one is on)."""

    def __init__(self, session: WatchSession) -> None:
        self.session = session
        self._made = (-1, None, -1.0)
        """(funding version, book, monotonic time) the memo was made for."""
        self._memo: dict[object, str] = {}

    def _fresh(self, frame: Frame) -> dict[object, str]:
        version, book, at = self._made
        now = time.monotonic()
        if version != self.session.funding.version or book is not self.session.book or now - at >= MEMO_SECONDS:
            self._made, self._memo = (self.session.funding.version, self.session.book, now), {}
        return self._memo

    def position(self, frame: Frame, r: PositionRisk, key: PriceKey) -> str:
        """The chart's line for the shown position r (its rate, per day, its projection)."""
        memo = self._fresh(frame)
        subject = ("position", id(r.position))
        if subject not in memo:
            s = self.session
            rates = s.funding.snapshot()
            account = r.position.account
            cross = account_funding(s.book, frame.shown, account, rates).cross_per_day
            a = frame.shown.account(account)
            warning = s.overrides.for_account(account).ratio_warning
            memo[subject] = position_note(s.book, r, rates.get(key), a, cross, warning, s.clock())
        return memo[subject]

    def account(self, frame: Frame, account: str) -> str:
        """The ladder's line for the shown account (per day, its cross positions', days to warning)."""
        memo = self._fresh(frame)
        subject = ("account", account)
        if subject not in memo:
            s = self.session
            funding = account_funding(s.book, frame.shown, account, s.funding.snapshot())
            warning = s.overrides.for_account(account).ratio_warning
            memo[subject] = account_note(funding, frame.shown.account(account), warning)
        return memo[subject]
