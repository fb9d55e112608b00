"""Where a uniform move of the marks takes a leg into another tier, and the first piece of a bracket between them.

Both account move searches (engine.margin.stress, scalar; engine.margin.vectorised_stress, over arrays) scan a
grid of moves for the first at which the account's cross surplus (equity less maintenance) is <= 0, then narrow
that grid step to the root. Between two moves at which a leg's notional crosses one of its tier bounds the
surplus is continuous and monotone in the move: linear for linear contracts (PnL and maintenance are both linear
in the mark), a + b/(1 + move) for inverse ones (both linear in 1/mark). At a crossing it jumps: a long falling
into a lower tier of a table without maintenance amounts (OKX, Gate) has its maintenance drop, so its surplus
rises. A liquidated stretch can then end at a crossing: it can lie wholly between two grid moves (the scan saw
none of it), or a grid step can hold a root, a safe stretch and a second root, and narrowing the whole step can
return the second one. Either way the answer was a move farther than the one that liquidates: the dangerous side.
So both searches also read the surplus around the crossings and narrow only between two neighbouring points
read, where the surplus is monotone: the scalar one at each crossing and on both sides of it where the maintenance
jumps (`probe_points`, `jumps`), leg by leg; the vectorised one on both sides of every crossing, from running sums
of the crossings' changes of rate and amount (engine.margin.vectorised_stress: a thousand-leg account with ten
bounds a leg is 30,000 reads, which leg by leg took seconds).
An account holding both linear and inverse legs has a + b(1 + move) + c/(1 + move) between crossings, which can
turn once; that case is not cut further (no venue here settles both kinds in one wallet).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

INSIDE = 1e-11
"""How far inside a piece (as a move) the surplus is read next to a crossing: the value on that side of the jump.
Far below what is shown (a move is shown to 0.1%), far above the searches' tolerance of 1e-13 and the rounding of
the crossing itself."""


def crossing_moves(nu: np.ndarray, price: np.ndarray, lower: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    """The move (a fraction of the mark) at which a leg's notional nu*z reaches a tier's lower bound, broadcast over
    the arguments: z = mark*(1 + move) for a linear leg, so move = lower/(nu*mark) - 1; z = 1/(mark*(1 + move)) for
    an inverse one, so move = nu/(lower*mark) - 1. nu: the leg's notional per unit of z (> 0); price: its mark;
    lower: the tier's lower bound in the settlement currency (inf for a padded tier: the move is then not finite)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(inverse, nu / (lower * price), lower / (nu * price)) - 1.0


def jumps(lower: np.ndarray, rate_below: np.ndarray, amount_below: np.ndarray, rate: np.ndarray, amount: np.ndarray):
    """Whether the maintenance margin jumps at a tier's lower bound (notional * rate - amount, the tier below's
    against the tier's own, apart by more than a millionth of a percent of the notional): OKX's and Gate's tables,
    without amounts, jump; Binance's, whose amounts keep it continuous, do not. Broadcast over the arguments."""
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs((lower * rate_below - amount_below) - (lower * rate - amount))
        return gap > 1e-8 * np.abs(lower)


def probe_points(crossings: Iterable[tuple[float, bool]], lo: float, hi: float) -> list[float]:
    """The moves to read the surplus at inside the step from lo (safe) to hi, in order from lo: at each crossing
    (move, whether the maintenance jumps there) strictly between them, and just before and after it where it
    jumps (where it does not, the surplus only bends there: its value at the crossing is the piece's extreme);
    each point strictly farther from lo than the one before."""
    direction = 1.0 if hi > lo else -1.0
    points: list[float] = []
    last = lo
    for crossing, jump in sorted(set(crossings), key=lambda c: (c[0] - lo) * direction):
        at = (crossing - direction * INSIDE, crossing, crossing + direction * INSIDE) if jump else (crossing,)
        for point in at:
            if (point - last) * direction > 0 and (hi - point) * direction > 0:
                points.append(point)
                last = point
    return points
