"""The risk thresholds: the global ones, and overrides per account and per position.

`Thresholds` says where the levels start (engine.monitor.levels draws the levels from them). A trader may
override them for one account (by its name) or one position (by account, symbol and side): a tighter
warning on a volatile altcoin, a looser one on a hedged account. `ThresholdOverrides` holds the global
thresholds and the overrides and resolves the thresholds in force: **position override > account override
> global**, each override **whole** (an override is a complete, valid Thresholds, not a patch of single
fields: what the dialog shows and saves is what applies, whatever later happens to the level above).

An override lives with the book (the portfolio file's `thresholds` object on an account or a position,
engine.book.threshold_fields; the saved book's `threshold_overrides` setting). Overrides of accounts or
positions the book no longer has are dropped when the book is saved or written (`kept_for`).

It lives under engine.book (not engine.monitor) because the portfolio file's reader validates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

FIELDS = ("distance_warning", "distance_danger", "ratio_warning", "ratio_danger", "hysteresis")
"""The thresholds' field names, as the settings and the portfolio file write them."""

PositionRef = tuple[str, str, str]
"""A position as overrides name it: (account name, symbol, side value 'long'/'short'/'both')."""


def threshold_problems(values: Mapping[str, float]) -> list[tuple[str, str]]:
    """Every way these thresholds (all five FIELDS, fractions) do not fit together, as (field, message);
    [] when they are valid. The one check behind Thresholds, the dialog and the portfolio file."""
    dw, dd = values["distance_warning"], values["distance_danger"]
    rw, rd, h = values["ratio_warning"], values["ratio_danger"], values["hysteresis"]
    problems = []
    if dw >= 1:
        problems.append(("distance_warning", f"distance_warning {dw:g} must be below 1: fractions (0.08 = 8%)"))
    if not 0 < dd < dw:
        what = "must be greater than 0" if dd <= 0 else f"must be below distance_warning ({dw:g})"
        problems.append(("distance_danger", f"distance_danger {dd:g} {what}: distances need 0 < danger < warning"))
    if not 0 < rw < rd < 1:
        field_name = "ratio_warning" if not 0 < rw < 1 or rw >= rd else "ratio_danger"
        problems.append(
            (field_name, f"{field_name} {values[field_name]:g}: margin ratios need 0 < warning < danger < 1 (100%)")
        )
    if not 0 <= h < dd:
        problems.append(("hysteresis", f"hysteresis {h:g} must be at least 0 and below distance_danger ({dd:g})"))
    return problems


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where the levels start, as fractions: distances to liquidation (0.15 = 15% of the mark) below which a
    position is in warning / danger, and margin ratios (0.70 = 70%) from which an account is; at distance
    <= 0 or ratio >= 1 it is liquidated.

    Raises ValueError (the message names the field) unless 0 < distance_danger < distance_warning,
    0 < ratio_warning < ratio_danger < 1 and 0 <= hysteresis < distance_danger.
    """

    distance_warning: float = 0.15
    distance_danger: float = 0.05
    ratio_warning: float = 0.70
    ratio_danger: float = 0.85
    hysteresis: float = 0.01
    """Fraction points a value must recover past a threshold before its level is left."""

    def __post_init__(self) -> None:
        problems = threshold_problems({f: getattr(self, f) for f in self.__slots__})  # asdict() deep-copies
        if problems:
            raise ValueError(problems[0][1])


def thresholds_text(t: Thresholds) -> str:
    """The thresholds in a line: 'distance warning 15%, danger 5%; margin ratio warning 70%, danger 85%'."""
    return (
        f"distance warning {t.distance_warning * 100:g}%, danger {t.distance_danger * 100:g}%; "
        f"margin ratio warning {t.ratio_warning * 100:g}%, danger {t.ratio_danger * 100:g}%"
    )


@dataclass(frozen=True)
class ThresholdOverrides:
    """The global thresholds and the overrides per account (by name) and per position (PositionRef).

    Not to be changed in place (its dicts are its own copies): the with_* methods return a new set.
    Resolution: position override > account override > global, each whole (module docstring).
    """

    base: Thresholds = field(default_factory=Thresholds)
    accounts: Mapping[str, Thresholds] = field(default_factory=dict)
    positions: Mapping[PositionRef, Thresholds] = field(default_factory=dict)

    def __post_init__(self) -> None:  # copies: the caller's dicts may change, this set does not
        object.__setattr__(self, "accounts", dict(self.accounts))
        object.__setattr__(self, "positions", dict(self.positions))

    def __bool__(self) -> bool:
        """True when any override is set (the global thresholds alone are False)."""
        return bool(self.accounts or self.positions)

    def for_account(self, account: str) -> Thresholds:
        """The thresholds in force for an account's margin ratio (its override, else the global ones)."""
        return self.accounts.get(account, self.base)

    def for_position(self, account: str, symbol: str, side: str) -> Thresholds:
        """The thresholds in force for a position's distance (side: 'long', 'short' or 'both')."""
        found = self.positions.get((account, symbol, side))
        return found if found is not None else self.for_account(account)

    def position_source(self, account: str, symbol: str, side: str) -> str:
        """Where a position's thresholds come from: 'position', 'account' or 'global'."""
        if (account, symbol, side) in self.positions:
            return "position"
        return "account" if account in self.accounts else "global"

    def account_source(self, account: str) -> str:
        """Where an account's thresholds come from: 'account' or 'global'."""
        return "account" if account in self.accounts else "global"

    def position_note(self, account: str, symbol: str, side: str) -> str:
        """Which thresholds a position's level follows, for its tooltip: '' under the global ones, else
        "this position's own thresholds: distance warning 30%, danger 10%; …" (or its account's)."""
        source = self.position_source(account, symbol, side)
        if source == "global":
            return ""
        whose = "this position's own" if source == "position" else f"account {account}'s"
        return f"Level by {whose} thresholds: {thresholds_text(self.for_position(account, symbol, side))}"

    def account_note(self, account: str) -> str:
        """As position_note, for an account's margin-ratio level: '' under the global thresholds."""
        if account not in self.accounts:
            return ""
        return f"Level by this account's own thresholds: {thresholds_text(self.accounts[account])}"

    def with_base(self, base: Thresholds) -> ThresholdOverrides:
        return replace(self, base=base)

    def with_account(self, account: str, thresholds: Thresholds | None) -> ThresholdOverrides:
        """A new set with the account's override set (None: removed)."""
        accounts = dict(self.accounts)
        accounts.pop(account, None)
        if thresholds is not None:
            accounts[account] = thresholds
        return replace(self, accounts=accounts)

    def with_position(self, ref: PositionRef, thresholds: Thresholds | None) -> ThresholdOverrides:
        """A new set with the position's override set (None: removed)."""
        positions = dict(self.positions)
        positions.pop(ref, None)
        if thresholds is not None:
            positions[ref] = thresholds
        return replace(self, positions=positions)

    def kept_for(self, accounts: set[str] | frozenset[str], positions: set[PositionRef]) -> ThresholdOverrides:
        """Only the overrides of these accounts and positions (what saving a book keeps)."""
        return replace(
            self,
            accounts={k: t for k, t in self.accounts.items() if k in accounts},
            positions={k: t for k, t in self.positions.items() if k in positions},
        )

    def to_setting(self) -> dict[str, Any]:
        """The overrides as the saved book's setting: {'accounts': {name: fields}, 'positions':
        [{'account', 'symbol', 'side', 'thresholds': fields}]} (the global ones are saved on their own)."""
        return {
            "accounts": {name: asdict(t) for name, t in self.accounts.items()},
            "positions": [
                {"account": a, "symbol": s, "side": side, "thresholds": asdict(t)}
                for (a, s, side), t in self.positions.items()
            ],
        }


def overrides_from_setting(value: object, base: Thresholds | None = None) -> ThresholdOverrides:
    """The overrides of a setting written by ThresholdOverrides.to_setting; a malformed entry is skipped
    (the saved book's checksum guards it: only our own writes reach here)."""
    accounts: dict[str, Thresholds] = {}
    positions: dict[PositionRef, Thresholds] = {}
    if isinstance(value, Mapping):
        for name, fields in dict(value.get("accounts") or {}).items():
            if (t := _thresholds_or_none(fields)) is not None:
                accounts[str(name)] = t
        for item in value.get("positions") or []:
            if isinstance(item, Mapping) and (t := _thresholds_or_none(item.get("thresholds"))) is not None:
                positions[(str(item.get("account")), str(item.get("symbol")), str(item.get("side")))] = t
    return ThresholdOverrides(base or Thresholds(), accounts, positions)


def _thresholds_or_none(fields: object) -> Thresholds | None:
    if not isinstance(fields, Mapping):
        return None
    try:
        return Thresholds(**{k: float(v) for k, v in fields.items() if k in FIELDS})
    except (TypeError, ValueError):
        return None
