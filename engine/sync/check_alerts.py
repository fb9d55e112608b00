"""An alert when a sync finds our liquidation price and the exchange's apart (the CHECK of engine.sync.run):
once when a position enters CHECK, not again on every sync while it stays so; once it agrees again (or leaves
the book), a new disagreement is a new alert."""

from __future__ import annotations

from engine.margin.model import Side, quote_currency_of
from engine.monitor.alerts import Alert
from engine.monitor.levels import Level
from engine.sync.run import AccountSync


class CheckAlerts:
    """Per position (account, symbol, side), whether its last sync said CHECK; `alerts` turns a sync into the
    alerts of the positions that entered CHECK with it."""

    def __init__(self) -> None:
        self._in_check: set[tuple[str, str, Side]] = set()

    def alerts(self, result: AccountSync) -> list[Alert]:
        """The check alerts of one sync (none for a failed sync: nothing is known then). Each alert: kind
        'check', key (account, symbol, side value), mark the exchange's mark, liquidation ours, check both
        prices, note their words ('ours 40,160.64 USDT, the exchange's 40,500.00 USDT (difference …)')."""
        if not result.ok:
            return []
        now_in_check = set()
        out = []
        for (symbol, side), (check, mark) in result.checks.items():
            key = (result.account, symbol, side)
            if check is None or not check.check:
                continue
            now_in_check.add(key)
            if key in self._in_check:
                continue
            out.append(
                Alert(
                    result.at,
                    f"{result.account} {symbol} {side.value}",
                    Level.WARNING,
                    Level.WARNING,
                    None,
                    mark,
                    key=(result.account, symbol, side.value),
                    liquidation=check.ours,
                    note=check.words(quote_currency_of(symbol)),
                    check=check,
                )
            )
        self._in_check = {k for k in self._in_check if k[0] != result.account} | now_in_check
        return out
