"""The window's menu bar, its tables' context menus, and the About box.

Built from what they act on (the book's actions, the positions view, the docks) and the window's slots,
so the window itself only says which pieces it has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QMessageBox, QTableView, QWidget

from desktop.platform.icon import app_icon
from desktop.platform.theme import THEMES, applied_theme, apply_theme, remember_theme
from desktop.window.book_actions import BookActions
from desktop.window.positions_view import PositionsView

VERSION_FALLBACK = "development build"
DOCK_SHORTCUTS = ("Ctrl+1", "Ctrl+2", "Ctrl+3", "Ctrl+4", "Ctrl+5")


def app_version() -> str:
    """The installed package's version ('development build' when run from a checkout without install)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("marginwatch")
    except PackageNotFoundError:
        return VERSION_FALLBACK


def show_about(parent: QWidget) -> None:
    """Help ▸ About: the version, what the product does, where prices come from, the Qt version."""
    from PySide6 import __version__ as qt_version

    box = QMessageBox(parent)
    box.setWindowTitle("About Margin Watch")
    box.setIconPixmap(app_icon().pixmap(96, 96))
    box.setText(
        f"<h3>Margin Watch {app_version()}</h3>"
        "<p>How far each leveraged position is from liquidation, live, with the exchange's own margin "
        "rules: tiered maintenance margin, cross and isolated, long and short, linear and inverse.</p>"
        "<p>Prices come from the exchanges' public feeds through ccxt. Syncing an account (optional) reads it "
        "with a read-only API key kept in the system keyring, never in the book or any file. "
        "Liquidation prices for exchanges without a modelled rule profile are marked as estimates.</p>"
        f"<p>Qt {qt_version}. MIT licence.</p>"
    )
    box.exec()


def focus_dock(dock: QDockWidget) -> None:
    """Show the dock (raised over a tabbed neighbour) and put the keyboard in it: Ctrl+1…5 never hide one."""
    dock.show()
    dock.raise_()
    inner = dock.widget()
    if inner is not None:
        target = inner.focusProxy() or inner
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)


class WindowMenus:
    """File, Edit, View, Settings and Help on the window's menu bar.

    docks: in the order of their View-menu shortcuts (Ctrl+1…); offline: the window starts offline;
    can_go_online: a feed factory exists (else Work offline cannot be unticked); the callables are the
    window's slots for each menu entry.
    """

    def __init__(
        self,
        window: QMainWindow,
        actions: BookActions,
        positions: PositionsView,
        docks: Sequence[QDockWidget],
        *,
        offline: bool,
        can_go_online: bool,
        set_offline: Callable[[bool], None],
        settings: QSettings | None,
        edit_thresholds: Callable[[], None],
    ) -> None:
        self.settings = settings
        bar = window.menuBar()
        self.file_menu = bar.addMenu("&File")
        self._fill_file_menu(window, actions, offline, can_go_online, set_offline)
        self.edit_menu = bar.addMenu("&Edit")
        self.edit_menu.addAction(positions.copy_action)
        self.edit_menu.addAction(positions.find_action)
        self.edit_menu.addAction(positions.closest_action)
        self.edit_menu.addSeparator()
        a = actions
        edits = (a.new_position, a.edit_position, a.whatif, a.margin, a.funding_rate.action, a.delete, None)
        for action in (*edits, a.new_account, a.edit_account, a.sync.action, None, a.hypothetical):
            self.edit_menu.addAction(action) if action is not None else self.edit_menu.addSeparator()
        window.addAction(positions.find_action)
        window.addAction(positions.closest_action)
        self.view_menu = bar.addMenu("&View")
        self._fill_view_menu(window, docks)
        self.settings_menu = settings_menu = bar.addMenu("&Settings")
        action = settings_menu.addAction("Risk &thresholds…")
        action.setShortcut("Ctrl+T")
        action.triggered.connect(edit_thresholds)
        help_menu = bar.addMenu("&Help")
        about = help_menu.addAction("&About Margin Watch")
        about.setShortcut(QKeySequence.StandardKey.HelpContents)
        about.triggered.connect(lambda: show_about(window))
        self.check_theme(applied_theme(QApplication.instance()))  # what run_app applied, from the settings

    def _fill_file_menu(
        self,
        window: QMainWindow,
        a: BookActions,
        offline: bool,
        can_go_online: bool,
        set_offline: Callable[[bool], None],
    ) -> None:
        for action in (a.import_book, a.export_book, None, a.import_csv, a.export_csv, None):
            self.file_menu.addAction(action) if action is not None else self.file_menu.addSeparator()
        self.offline_action = self.file_menu.addAction("Work &offline (manual prices)")
        self.offline_action.setCheckable(True)
        self.offline_action.setChecked(offline)
        self.offline_action.setEnabled(can_go_online or not offline)
        self.offline_action.setShortcut("Ctrl+Shift+O")
        self.offline_action.toggled.connect(set_offline)
        self.file_menu.addSeparator()
        close_action = self.file_menu.addAction("&Close window")
        close_action.setShortcut(QKeySequence.StandardKey.Close)  # Ctrl+W, as in most desktop apps
        close_action.triggered.connect(window.close)
        quit_action = self.file_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(window.close)

    def _fill_view_menu(self, window: QMainWindow, docks: Sequence[QDockWidget]) -> None:
        theme_menu = self.view_menu.addMenu("&Theme")
        self.theme_actions = QActionGroup(window)
        for name in THEMES:
            action = theme_menu.addAction(name.capitalize())
            action.setCheckable(True)
            action.setData(name)
            self.theme_actions.addAction(action)
        self.theme_actions.triggered.connect(lambda action: self.set_theme(action.data()))
        self.view_menu.addSeparator()
        for dock in docks:
            self.view_menu.addAction(dock.toggleViewAction())  # show or hide
        self.view_menu.addSeparator()
        self.focus_actions = []
        for dock, shortcut in zip(docks, DOCK_SHORTCUTS, strict=True):
            action = self.view_menu.addAction(f"Go to {dock.windowTitle()}")
            action.setShortcut(shortcut)
            action.triggered.connect(lambda _=False, dock=dock: focus_dock(dock))
            self.focus_actions.append(action)

    def set_theme(self, name: str) -> None:
        """Apply a theme now, tick it, and remember it for the next start (unknown names: the default)."""
        app = QApplication.instance()
        applied = apply_theme(app, name) if isinstance(app, QApplication) else name
        self.check_theme(applied)
        remember_theme(self.settings, applied)

    def check_theme(self, name: str) -> None:
        """Tick the theme actually applied."""
        for action in self.theme_actions.actions():
            action.setChecked(action.data() == name)


def add_context_menus(
    table: QTableView, accounts: QTableView, actions: BookActions, shown_account: Callable[[], str | None]
) -> None:
    """Right-click menus: the positions table's position commands, the accounts table's account commands."""
    a = actions
    first = table.actions()[0] if table.actions() else None
    position_actions = (a.own_thresholds.position_action, a.funding_rate.action)
    for action in (a.edit_position, a.whatif, a.margin, *position_actions, a.delete, a.new_position):
        table.insertAction(first, action)
    separator = QAction(table)
    separator.setSeparator(True)
    table.insertAction(first, separator)
    accounts.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    open_trade = QAction("&Open a position (what-if)…", accounts)
    open_trade.triggered.connect(lambda: (account := shown_account()) and a.open_trade_on_account(account))
    accounts.addAction(open_trade)
    for action in (a.new_position, a.edit_account, a.own_thresholds.account_action, a.new_account, a.sync.action):
        accounts.addAction(action)
