"""Levels and alerts of the real book, and the what-if levels of a preview: one place for both.

Alerts, stored alert history and the hysteresis of every level come from the **real** book only:
hypothetical positions left out, evaluated at the real (unshocked) marks. A preview layer (hypothetical
positions shown, a price shock) changes what a table shows, never what is alerted. What the table shows
under a preview is coloured by the preview's own levels (`what_if_level`, without hysteresis: a preview
has no history) and each such row or account carries a note saying it is a what-if and what the real
level is (`what_if_note`), so a preview never poses as reality.

`BookAlerts` is Qt-free and serves the window; the headless `watch` loop can use it too.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from engine.margin.live_risk import VectorPositions, position_distances, positions_known
from engine.margin.model import Book, MarginMode, Position, PriceKey
from engine.margin.risk import AccountRisk, PositionRisk
from engine.market.prices import Shock
from engine.monitor.alerts import Alert, AlertPolicy
from engine.monitor.levels import Crossing, Level, LevelTracker, Thresholds, distance_levels, ratio_level
from engine.monitor.report import account_ratio_text

_LEVELS = tuple(Level)


def real_book(book: Book) -> Book:
    """The book alerts are evaluated on: every hypothetical position left out (accounts all kept)."""
    return book.without_hypothetical() if any(p.hypothetical for p in book.positions) else book


def account_ratio_level(a: AccountRisk, t: Thresholds, slack: float = 0.0) -> Level:
    """An account's level from its cross margin ratio (liquidated once the cross account is at or past its
    liquidation point, engine.margin.risk), without history."""
    return ratio_level(a.margin_ratio, t, slack, equity_gone=a.liquidated)


def what_if_levels(rows: Sequence[PositionRisk], t: Thresholds) -> list[Level]:
    """Each row's level at the plain thresholds, without hysteresis (a preview's rows: it has no history)."""
    return [_LEVELS[v] for v in distance_levels(position_distances(rows), t).tolist()]


def what_if_note(real_level: Level | None, hypothetical: bool = False) -> str:
    """The note a what-if row or account carries: '◇ hypothetical · what-if' for a hypothetical position
    (it has no real level), else 'what-if · real: ok' (the real book's level, hysteresis included)."""
    if hypothetical or real_level is None:
        return "◇ hypothetical · what-if"
    return f"what-if · real: {real_level.label}"


@dataclass(frozen=True, slots=True)
class PreviewScope:
    """What a preview changes: the accounts whose figures move, the accounts whose cross positions'
    figures move (a hypothetical or shocked cross position shares their margin), and the shocked marks.
    An isolated position, hypothetical or shocked, changes its own row and its account's totals only."""

    accounts: frozenset[str] = frozenset()
    cross_accounts: frozenset[str] = frozenset()
    shocked_keys: frozenset[PriceKey] = frozenset()

    def touches(self, p: Position, key: PriceKey) -> bool:
        """Whether the row of position p (priced at key) shows figures the preview changed."""
        return (
            p.hypothetical
            or key in self.shocked_keys
            or (p.margin_mode is MarginMode.CROSS and p.account in self.cross_accounts)
        )


def preview_scope(book: Book, shock: Shock | None, price_keys: Sequence[PriceKey]) -> PreviewScope:
    """The scope of the preview shown: book is the shown book (hypothetical positions included when
    shown), price_keys each of its positions' (exchange, symbol), shock the price shock or None."""
    accounts: set[str] = set()
    cross: set[str] = set()
    shocked: set[PriceKey] = set()
    for p, key in zip(book.positions, price_keys, strict=True):
        is_shocked = shock is not None and shock.touches(key)
        if is_shocked:
            shocked.add(key)
        if p.hypothetical or is_shocked:
            accounts.add(p.account)
            if p.margin_mode is MarginMode.CROSS:
                cross.add(p.account)
    return PreviewScope(frozenset(accounts), frozenset(cross), frozenset(shocked))


def what_if_rows(
    positions: Sequence[Position],
    price_keys: Sequence[PriceKey],
    keys: Sequence[Hashable],
    what_if: Sequence[Level],
    scope: PreviewScope,
    real_level: Callable[[Hashable], Level],
) -> tuple[list[Level], list[str]]:
    """Each shown row's level and what-if note under a preview (parallel to positions, price_keys, keys).

    A row the preview changes (scope.touches) takes its what-if level (`what_if`, from the shown
    figures) and a note naming the real level; the others keep the real level (hysteresis included)
    and no note. real_level: the real book's level of a key (BookAlerts.level).
    """
    levels: list[Level] = []
    notes: list[str] = []
    for p, price_key, key, level in zip(positions, price_keys, keys, what_if, strict=True):
        if p.hypothetical:
            levels.append(level)
            notes.append(what_if_note(None, hypothetical=True))
        elif scope.touches(p, price_key):
            levels.append(level)
            notes.append(what_if_note(real_level(key)))
        else:
            levels.append(real_level(key))
            notes.append("")
    return levels, notes


def what_if_accounts(
    accounts: Sequence[AccountRisk],
    real_levels: Mapping[str, Level],
    touched: AbstractSet[str],
    t: Thresholds,
    real_level: Callable[[Hashable], Level],
) -> tuple[list[Level], list[str]]:
    """Each shown account's level and what-if note under a preview, as what_if_rows for positions.

    real_levels: the real book's level by account name (this evaluation's); an account missing there
    (not evaluated in reality this time) falls back to real_level(("account", name)).
    """
    levels: list[Level] = []
    notes: list[str] = []
    for a in accounts:
        name = a.account.name
        real = real_levels.get(name, real_level(("account", name)))
        if name in touched:
            levels.append(account_ratio_level(a, t))
            notes.append(what_if_note(real))
        else:
            levels.append(real)
            notes.append("")
    return levels, notes


@dataclass
class BookAlerts:
    """The real book's levels (with hysteresis) and the alerts their rises make (rate-limited, grouped).

    Keys are stable per position or account (the window's position_keys, ("account", name)); times are
    wall-clock seconds. Rows given to `positions` must be the real book's: a hypothetical row is refused
    (ValueError), so no caller can let a what-if position raise an alert or move a level.
    """

    thresholds: Thresholds = field(default_factory=Thresholds)
    policy: AlertPolicy = field(default_factory=AlertPolicy)
    tracker: LevelTracker = field(init=False)

    def __post_init__(self) -> None:
        self.tracker = LevelTracker(self.thresholds)

    def level(self, key: Hashable) -> Level:
        """The key's level now (ok when never evaluated)."""
        return self.tracker.levels.get(key, Level.OK)

    def positions(
        self,
        keys: Sequence[Hashable],
        rows: Sequence[PositionRisk],
        stale: Sequence[bool],
        now: float,
    ) -> tuple[list[Level], list[Alert]]:
        """Every row's level now and the alerts of this evaluation (crossings and stale prices).

        keys, rows and stale are parallel (stale: the row's price is stale); now: wall-clock seconds. Only
        rows that crossed a level or whose price is (or was) stale go through Python.

        Raises ValueError when a row is a hypothetical position (alerts come from the real book only).
        """
        positions = rows.positions if isinstance(rows, VectorPositions) else [r.position for r in rows]
        if any(p.hypothetical for p in positions):
            raise ValueError("hypothetical positions never raise alerts: evaluate the real book (real_book)")
        # A row whose mark is missing keeps its level (unknown is not 'no liquidation price').
        levels, crossings = self.tracker.positions(keys, position_distances(rows), positions_known(rows))
        crossed: dict[Hashable, Crossing] = {c.key: c for c in crossings}
        policy = self.policy
        alerts: list[Alert] = []
        if not crossed and not any(stale) and not policy.stale_spells():
            return levels, alerts
        for i, key in enumerate(keys):
            crossing = crossed.get(key)
            if crossing is None and not stale[i] and not policy.in_stale_spell(key):
                continue
            r = rows[i]
            p = r.position
            subject = f"{p.account} {p.symbol} {p.side.value}"
            distance, mark, liquidation = r.distance_to_liquidation, r.mark_price, r.liquidation_price
            for alert in (
                policy.on_crossing(key, crossing, now, subject, distance, mark, liquidation),
                policy.on_price_age(key, levels[i], stale[i], now, subject, distance, mark, liquidation),
            ):
                if alert is not None:
                    alerts.append(alert)
        return levels, alerts

    def accounts(self, accounts: Sequence[AccountRisk], now: float) -> tuple[list[Level], list[Alert]]:
        """Every account's margin-ratio level now and the alerts of its rises."""
        t = self.thresholds
        levels: list[Level] = []
        alerts: list[Alert] = []
        for a in accounts:
            key = ("account", a.account.name)
            if a.missing and a.has_cross:  # a cross mark is missing: the account keeps the level it had
                levels.append(self.level(key))
                continue
            crossing = self.tracker.update(key, account_ratio_level(a, t), account_ratio_level(a, t, t.hysteresis))
            if crossing is not None:
                subject = f"account {a.account.name} (margin ratio {account_ratio_text(a)})"
                alert = self.policy.on_crossing(key, crossing, now, subject, None, None)
                if alert is not None:
                    alerts.append(alert)
            levels.append(self.level(key))
        return levels, alerts
