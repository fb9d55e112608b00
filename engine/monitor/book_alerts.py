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
from dataclasses import dataclass, field, replace

from engine.book.thresholds import ThresholdOverrides
from engine.margin.live_risk import VectorPositions, position_distances, positions_known
from engine.margin.model import Book, MarginMode, Position, PriceKey
from engine.margin.risk import AccountRisk, PositionRisk
from engine.market.prices import Shock
from engine.monitor.alerts import Alert, AlertPolicy
from engine.monitor.levels import (
    Level,
    LevelTracker,
    RowThresholds,
    Thresholds,
    distance_levels,
    ratio_level,
    row_thresholds,
)
from engine.monitor.report import account_ratio_text

_LEVELS = tuple(Level)


def real_book(book: Book) -> Book:
    """The book alerts are evaluated on: every hypothetical position left out (accounts all kept)."""
    return book.without_hypothetical() if any(p.hypothetical for p in book.positions) else book


def account_ratio_level(a: AccountRisk, t: Thresholds, slack: float = 0.0) -> Level:
    """An account's level from its cross margin ratio (liquidated once the cross account is at or past its
    liquidation point, engine.margin.risk), without history."""
    return ratio_level(a.margin_ratio, t, slack, equity_gone=a.liquidated)


def what_if_levels(rows: Sequence[PositionRisk], t: Thresholds | RowThresholds) -> list[Level]:
    """Each row's level at the plain thresholds (one for all rows, or each row's own), without hysteresis
    (a preview's rows: it has no history)."""
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
    t: Thresholds | ThresholdOverrides,
    real_level: Callable[[Hashable], Level],
) -> tuple[list[Level], list[str]]:
    """Each shown account's level and what-if note under a preview, as what_if_rows for positions.

    real_levels: the real book's level by account name (this evaluation's); an account missing there
    (not evaluated in reality this time) falls back to real_level(("account", name)). t: the thresholds,
    or the overrides (each account at its own).
    """
    levels: list[Level] = []
    notes: list[str] = []
    for a in accounts:
        name = a.account.name
        real = real_levels.get(name, real_level(("account", name)))
        if name in touched:
            own = t.for_account(name) if isinstance(t, ThresholdOverrides) else t
            levels.append(account_ratio_level(a, own))
            notes.append(what_if_note(real))
        else:
            levels.append(real)
            notes.append("")
    return levels, notes


def threshold_note(source: str, t: Thresholds, level: Level, account: bool = False) -> str:
    """What an alert says after its level when an override set it: 'position threshold 8%' (the distance, or
    for an account the margin ratio, at which that level starts); '' under the global thresholds or for a
    level no threshold sets (ok, liquidated). source: ThresholdOverrides.position_source / account_source."""
    if source == "global" or level not in (Level.WARNING, Level.DANGER):
        return ""
    if account:
        value = t.ratio_warning if level is Level.WARNING else t.ratio_danger
    else:
        value = t.distance_warning if level is Level.WARNING else t.distance_danger
    return f"{source} threshold {value * 100:g}%"


@dataclass
class BookAlerts:
    """The real book's levels (with hysteresis) and the alerts their rises make (rate-limited, grouped).

    Keys are stable per position or account (the window's position_keys, ("account", name)); times are
    wall-clock seconds. Rows given to `positions` must be the real book's: a hypothetical row is refused
    (ValueError), so no caller can let a what-if position raise an alert or move a level.

    thresholds: the global ones; overrides: per account and position (engine.book.thresholds; its base is
    set to `thresholds`). Each row and account is judged at its own, and an alert an override set says so.
    """

    thresholds: Thresholds = field(default_factory=Thresholds)
    policy: AlertPolicy = field(default_factory=AlertPolicy)
    overrides: ThresholdOverrides = field(default_factory=ThresholdOverrides)
    tracker: LevelTracker = field(init=False)
    _per_row: dict[int, tuple[object, RowThresholds]] = field(init=False, default_factory=dict)
    _checked_real: tuple[Position, ...] | None = field(init=False, default=None)
    """The last positions tuple found free of hypothetical positions (checked once, not every tick)."""

    def __post_init__(self) -> None:
        self.overrides = self.overrides.with_base(self.thresholds)
        self.tracker = LevelTracker(self.thresholds)

    def level(self, key: Hashable) -> Level:
        """The key's level now (ok when never evaluated)."""
        return self.tracker.levels.get(key, Level.OK)

    def use_overrides(self, overrides: ThresholdOverrides) -> None:
        """Judge by these overrides from the next evaluation on (their base set to the global thresholds);
        the levels keep their history: a row leaves its level past the new threshold's hysteresis band."""
        self.overrides = overrides.with_base(self.thresholds)
        self._per_row.clear()

    def row_thresholds(self, positions: Sequence[Position]) -> RowThresholds | None:
        """Each position's thresholds as arrays (None without overrides: the global ones for all), resolved
        once per positions sequence (the evaluator's, the same object every tick) and kept."""
        if not self.overrides:
            return None
        kept = self._per_row.get(id(positions))
        if kept is None or kept[0] is not positions:
            if len(self._per_row) > 4:  # the real and the shown book's sequences; older ones are gone
                self._per_row.clear()
            o = self.overrides
            kept = (positions, row_thresholds([o.for_position(p.account, p.symbol, p.side.value) for p in positions]))
            self._per_row[id(positions)] = kept
        return kept[1]

    def _noted(self, alert: Alert | None, p: Position) -> Alert | None:
        if alert is None or alert.stale or not self.overrides:
            return alert
        o = self.overrides
        t = o.for_position(p.account, p.symbol, p.side.value)
        note = threshold_note(o.position_source(p.account, p.symbol, p.side.value), t, alert.new)
        return replace(alert, note=note) if note else alert

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
        if positions is not self._checked_real:
            if any(p.hypothetical for p in positions):
                raise ValueError("hypothetical positions never raise alerts: evaluate the real book (real_book)")
            if isinstance(positions, tuple):  # a book's positions: the same tuple every tick, and immutable
                self._checked_real = positions
        # A row whose mark is missing keeps its level (unknown is not 'no liquidation price').
        levels, crossings, crossed_rows = self.tracker.positions_with_rows(
            keys, position_distances(rows), positions_known(rows), self.row_thresholds(positions)
        )
        policy = self.policy
        alerts: list[Alert] = []
        # The rows that crossed a level, whose price is stale or whose stale spell may end, in row order.
        todo = set(crossed_rows)
        if any(stale):
            todo.update(i for i, s in enumerate(stale) if s)
        if policy.stale_spells():
            todo.update(i for i, key in enumerate(keys) if policy.in_stale_spell(key))
        crossed = dict(zip(crossed_rows, crossings, strict=True))
        for i in sorted(todo):
            key, crossing = keys[i], crossed.get(i)
            r = rows[i]
            p = r.position
            subject = f"{p.account} {p.symbol} {p.side.value}"
            distance, mark, liquidation = r.distance_to_liquidation, r.mark_price, r.liquidation_price
            for alert in (
                self._noted(policy.on_crossing(key, crossing, now, subject, distance, mark, liquidation), p),
                policy.on_price_age(key, levels[i], stale[i], now, subject, distance, mark, liquidation),
            ):
                if alert is not None:
                    alerts.append(alert)
        return levels, alerts

    def accounts(self, accounts: Sequence[AccountRisk], now: float) -> tuple[list[Level], list[Alert]]:
        """Every account's margin-ratio level now (each at its own thresholds) and the alerts of its rises."""
        o = self.overrides
        levels: list[Level] = []
        alerts: list[Alert] = []
        for a in accounts:
            name = a.account.name
            key = ("account", name)
            if a.missing and a.has_cross:  # a cross mark is missing: the account keeps the level it had
                levels.append(self.level(key))
                continue
            t = o.for_account(name)
            crossing = self.tracker.update(key, account_ratio_level(a, t), account_ratio_level(a, t, t.hysteresis))
            if crossing is not None:
                subject = f"account {name} (margin ratio {account_ratio_text(a)})"
                alert = self.policy.on_crossing(key, crossing, now, subject, None, None)
                note = threshold_note(o.account_source(name), t, crossing.new, account=True)
                if alert is not None:
                    alerts.append(replace(alert, note=note) if note else alert)
            levels.append(self.level(key))
        return levels, alerts
