"""`marginwatch --self-test`: prove an installed or frozen Margin Watch can run, without a display.

It exercises every layer a start-up needs, on the bundled demo book and never on the saved one: the
bundled data, the scalar and the vectorised engine (which must agree), the simulated feed's thread,
ccxt's clients (built and closed, never connected), and Qt (platform plugin, widgets, the window's
modules, the icon). In a frozen build that is what breaks: a module, a data file or a Qt plugin left
out of the bundle.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.book.portfolio import Portfolio, loads_portfolio
from engine.margin.bundled import resource
from engine.margin.risk import BookRisk, evaluate_book
from engine.margin.vectorised import CompiledBook
from engine.market.feeds.ccxt_feed import DEFAULT_CCXT_CONFIG
from engine.market.feeds.simulated import SimulatedFeed
from engine.market.prices import PriceSource, PriceStore

FEED_TIMEOUT_S = 5.0
"""How long the simulated feed may take to publish every price from its own thread."""
AGREEMENT = 1e-9
"""Relative tolerance between the vectorised and the scalar distance to liquidation."""


class SelfTestFailed(Exception):
    """One line: which step failed, and why."""


@dataclass(frozen=True)
class FeedCheck:
    prices: int
    keys: int
    seconds: float


@contextlib.contextmanager
def step(name: str) -> Iterator[None]:
    """Any error inside becomes SelfTestFailed naming the step: a self-test reports, it never crashes."""
    try:
        yield
    except SelfTestFailed as e:
        raise SelfTestFailed(f"{name}: {e}") from e
    except Exception as e:
        raise SelfTestFailed(f"{name}: {type(e).__name__}: {e}") from e


def run() -> str:
    """Run every check; the one-line summary, or SelfTestFailed."""
    with step("display"):  # before the offscreen default below: the real platform plugin, where there is one
        display = check_display()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with step("demo book"):
        portfolio = loads_portfolio(resource("demo", "book.json").read_text(encoding="utf-8"))
    with step("engine"):
        risk = evaluate_book(portfolio.book, portfolio.price_map())
        closest = closest_to_liquidation(risk)
    with step("vectorised engine"):
        check_vectorised(portfolio, risk)
    with step("simulated feed"):
        feed = check_simulated_feed(portfolio)
    with step("ccxt"):
        exchanges = check_ccxt(portfolio)
    with step("Qt"):
        qt = check_qt()
    book = portfolio.book
    return (
        f"self-test ok: {len(book.positions)} positions, {len(book.accounts)} accounts, {closest}, "
        f"simulated feed {feed.prices}/{feed.keys} prices in {feed.seconds:.2f} s, {exchanges}, {qt}, {display}"
    )


def check_display() -> str:
    """Where a display is present, the window's platform plugin must load (the missing library named, as
    the window would say); without one, say that only the offscreen checks ran."""
    from desktop.platform.display_check import display_problem

    windowed = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if not windowed or os.environ.get("QT_QPA_PLATFORM"):
        return "no display: window plugin not checked"
    if problem := display_problem():
        raise SelfTestFailed(problem)
    return "display plugin loads"


def closest_to_liquidation(risk: BookRisk) -> str:
    distances = [p for p in risk.positions if p.distance_to_liquidation is not None]
    if not distances:
        return "no position can be liquidated"
    nearest = min(distances, key=lambda p: p.distance_to_liquidation or 0.0)
    position = nearest.position
    return (
        f"closest to liquidation {nearest.distance_to_liquidation:.1%} "
        f"({position.symbol} {position.side.value}, {position.account})"
    )


def check_vectorised(portfolio: Portfolio, risk: BookRisk) -> None:
    compiled = CompiledBook(portfolio.book)
    vector = compiled.recompute(compiled.prices_from(portfolio.price_map()))
    for index, (scalar, fast) in enumerate(zip(risk.positions, vector.distance_to_liquidation, strict=True)):
        expected = scalar.distance_to_liquidation
        agree = (
            math.isnan(fast) if expected is None else math.isclose(fast, expected, rel_tol=AGREEMENT, abs_tol=AGREEMENT)
        )
        if not agree:
            symbol = scalar.position.symbol
            raise SelfTestFailed(
                f"position {index + 1} ({symbol}): distance {fast!r}, the scalar engine says {expected!r}"
            )


def check_simulated_feed(portfolio: Portfolio) -> FeedCheck:
    """Start the feed, wait until its thread has published every key of the book, stop it."""
    keys = set(portfolio.book.price_keys())
    store = PriceStore()
    reader = store.reader()
    feed = SimulatedFeed(store, portfolio.price_map(), seed=7, interval=0.05)
    started = time.monotonic()
    feed.start()  # publishes the start prices at once, on this thread
    try:
        reader.read()
        ticked: set[tuple[str, str]] = set()  # keys published since, by the feed's own thread
        deadline = started + FEED_TIMEOUT_S
        while not keys <= ticked:
            if time.monotonic() > deadline:
                raise SelfTestFailed(f"{len(keys & ticked)}/{len(keys)} prices after {FEED_TIMEOUT_S:.0f} s")
            time.sleep(0.01)
            snapshot = reader.read()
            ticked |= {k for k in snapshot.changed if snapshot.quotes[k].source is PriceSource.SIMULATED}
        seconds = time.monotonic() - started
    finally:
        stopped = feed.stop(timeout=2.0)
    if not stopped:
        raise SelfTestFailed("the feed thread did not stop within 2 s")
    return FeedCheck(len(keys & ticked), len(keys), seconds)


def check_ccxt(portfolio: Portfolio) -> str:
    """Build the ccxt client of each of the book's exchanges as a live feed does, open its HTTP session
    (TLS context, certifi's CA file) and close it again. Nothing is sent."""
    import ccxt
    import ccxt.pro

    exchanges = sorted({account.exchange for account in portfolio.book.accounts})

    async def open_and_close(exchange_id: str) -> None:
        cls = getattr(ccxt.pro, exchange_id, None)
        if cls is None:
            raise SelfTestFailed(f"ccxt has no exchange '{exchange_id}'")
        exchange = cls(dict(DEFAULT_CCXT_CONFIG))
        try:
            exchange.open()
        finally:
            await exchange.close()

    async def all_exchanges() -> None:
        # Together: each close() waits 0.25 s for TLS shutdowns (ccxt's own pause).
        await asyncio.gather(*(open_and_close(exchange_id) for exchange_id in exchanges))

    asyncio.run(all_exchanges())
    return f"ccxt {ccxt.__version__} clients for {len(exchanges)} exchanges"


def check_qt() -> str:
    """Create (and destroy) a QApplication, import the window's modules, draw a widget and the icon."""
    from PySide6.QtCore import QLibraryInfo, QSize, qVersion
    from PySide6.QtWidgets import QApplication, QLabel

    from desktop.platform.icon import ICON_SIZES, app_icon

    platform = os.environ["QT_QPA_PLATFORM"].split(":", 1)[0]
    # A missing platform plugin makes Qt abort the process; say which one, and where it was looked for.
    folders = [Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))]
    folders += [Path(p) for p in os.environ.get("QT_PLUGIN_PATH", "").split(os.pathsep) if p]
    folders = list(dict.fromkeys(folders))  # a frozen build sets QT_PLUGIN_PATH to Qt's own folder
    if not any(any((folder / "platforms").glob(f"*q{platform}.*")) for folder in folders):
        raise SelfTestFailed(f"no '{platform}' platform plugin in {', '.join(map(str, folders))}")
    app = QApplication.instance()
    created = app is None
    if app is None:
        app = QApplication(sys.argv[:1])
    try:
        for module in ("desktop.app", "desktop.charts.position_chart"):  # the window; the charts, pyqtgraph:
            importlib.import_module(module)  # all in the bundle? (the charts load after the window's first paint)
        icon = app_icon()
        sizes = sorted(size.width() for size in icon.availableSizes())
        if sizes != sorted(ICON_SIZES):
            raise SelfTestFailed(f"the icon has sizes {sizes}, expected {list(ICON_SIZES)}")
        app.setWindowIcon(icon)
        label = QLabel("Margin Watch")
        label.setWindowIcon(icon)
        if label.grab().isNull() or icon.pixmap(QSize(16, 16)).isNull():
            raise SelfTestFailed("cannot draw a widget or the icon")
        label.deleteLater()
        name = app.platformName()
    finally:
        if created:
            app.shutdown()
    return f"Qt {qVersion()} {name}"
