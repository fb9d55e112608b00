"""The funding lines of the position chart and the risk ladder (engine.monitor.funding_notes), made from the
session's frame and rates, once per frame and subject: the chart is redrawn on every refresh."""

from __future__ import annotations

from engine.margin.model import PriceKey
from engine.margin.risk import PositionRisk
from engine.monitor.frame import Frame
from engine.monitor.funding_notes import account_funding, account_note, position_note
from engine.monitor.session import WatchSession


class FundingNotes:
    """position() and account() lines of the session's shown book (a preview's figures while one is on)."""

    def __init__(self, session: WatchSession) -> None:
        self.session = session
        self._frame: Frame | None = None
        self._version = -1
        self._memo: dict[object, str] = {}

    def _fresh(self, frame: Frame) -> dict[object, str]:
        version = self.session.funding.version
        if frame is not self._frame or version != self._version:
            self._frame, self._version, self._memo = frame, version, {}
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
            memo[subject] = position_note(s.book, r, rates.get(key), a, cross, s.thresholds.ratio_warning, s.clock())
        return memo[subject]

    def account(self, frame: Frame, account: str) -> str:
        """The ladder's line for the shown account (per day, its cross positions', days to warning)."""
        memo = self._fresh(frame)
        subject = ("account", account)
        if subject not in memo:
            s = self.session
            funding = account_funding(s.book, frame.shown, account, s.funding.snapshot())
            memo[subject] = account_note(funding, frame.shown.account(account), s.thresholds.ratio_warning)
        return memo[subject]
