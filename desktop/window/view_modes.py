"""The window's modes: a shock preview, hypothetical positions in or out, and working offline.

Each mode changes what the session evaluates (engine.monitor.session.WatchSession) or where prices come
from (desktop.window.price_sources.PriceSources), says so above the tables or in the status bar, and asks
the window for a new frame at once. Nothing here is saved with the book: modes are this window's view.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop.window.chart_views import ChartViews
from desktop.window.lazy_dock import LazyDock
from desktop.window.preview_banner import PreviewBanner
from desktop.window.price_sources import PriceSources
from engine.book.portfolio import Portfolio
from engine.market.prices import Shock
from engine.monitor.session import WatchSession


class ViewModes(QObject):
    """Switches the window's modes. redraw(): a new frame of every key and the account views, drawn now;
    say(text): a passing status-bar message. The hypothetical and offline actions are given once the
    menus exist (set_actions), so that a mode changed in code shows as checked in the menus too."""

    def __init__(
        self,
        parent: QWidget,
        session: WatchSession,
        sources: PriceSources,
        banner: PreviewBanner,
        charts: ChartViews,
        prices_dock: LazyDock,
        redraw: Callable[[], None],
        say: Callable[[str], None],
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self.session, self.sources, self.banner, self.charts = session, sources, banner, charts
        self.prices_dock = prices_dock
        self._redraw, self._say = redraw, say
        self.hypothetical_action: QAction | None = None
        self.offline_action: QAction | None = None
        banner.end_shock.connect(self.end_shock)
        banner.leave_out_hypothetical.connect(lambda: self.set_include_hypothetical(False))

    def set_actions(self, hypothetical: QAction, offline: QAction) -> None:
        """The menu actions that show the hypothetical and offline modes as checked."""
        self.hypothetical_action, self.offline_action = hypothetical, offline

    def show_banner(self) -> None:
        """Say above the tables what the view previews (a shock, hypothetical positions), or hide the banner."""
        hypothetical = sum(p.hypothetical for p in self.session.book.positions)
        self.banner.show_preview(self.session.shock, hypothetical)

    def use_portfolio(self, portfolio: Portfolio) -> None:
        """Compile the book the session evaluates (hypothetical positions left out when toggled off); the
        moves searched on the previous book are forgotten. The caller asks for the new frame."""
        self.session.use_portfolio(portfolio)
        self.charts.forget_moves()
        self.show_banner()

    def set_include_hypothetical(self, include: bool) -> None:
        """Include or leave out every hypothetical position from every figure (rows, accounts, charts)."""
        if not self.session.set_include_hypothetical(include):
            return
        if self.hypothetical_action is not None:
            self.hypothetical_action.setChecked(include)
        self.use_portfolio(self.session.portfolio)
        self._redraw()

    @Slot(object)
    def set_shock(self, shock: Shock | None) -> None:
        """Preview the book under a price shock (None: back to the real marks). Nothing is saved; alerts go
        on from the real marks; the banner above the tables says the view is shocked."""
        self.session.set_shock(shock)
        self.charts.forget_moves()  # moves found under the previous shock (or none) are not these marks' moves
        self.show_banner()
        self._redraw()

    @Slot()
    def end_shock(self) -> None:
        """End the shock preview (the banner's button): the Prices dock's slider goes back to 0 too."""
        if self.prices_dock.built:
            self.prices_dock.content().reset_shock()  # emits shock_changed(None), which lands in set_shock
        if self.session.shock is not None:
            self.set_shock(None)

    @Slot(bool)
    def set_offline(self, offline: bool) -> None:
        """Offline: stop the feeds and keep their last prices as manual ones. Back online: new feeds, and
        the manual prices are replaced by live ones only if the user says so."""
        if offline == self.sources.offline:
            return
        if offline:
            self.sources.go_offline()
            self._say("Offline: the feeds are stopped; the last prices are kept as manual prices.")
        else:
            answer = QMessageBox.question(
                self._parent,
                "Back online",
                "Replace your manual prices with live ones as they arrive?\n\n"
                "No keeps every manual price (Prices dock ▸ Back to live, one symbol at a time).",
            )
            replace = answer == QMessageBox.StandardButton.Yes
            problem = self.sources.go_online(self.session.book.price_keys(), replace)
            if problem:
                self._say(f"Back online; the cleared manual prices were not saved: {problem}")
            elif replace:
                self._say("Back online: live prices replace the manual ones as they arrive.")
            else:
                self._say("Back online: your manual prices are kept (Prices dock ▸ Back to live).")
        self.session.working_offline = self.sources.working_offline
        if self.offline_action is not None:
            self.offline_action.setChecked(offline)
        self._redraw()
