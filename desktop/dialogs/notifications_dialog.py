"""Settings ▸ Notification channels…: the window's alert sound (desktop.dialogs.sound_row), and the channels
alerts are sent to (webhook, ntfy, Telegram), each one's minimum level, its state and last error, and a "Send
test" button whose outcome shows in the dialog.

URL and token fields are password fields: what is typed goes to the keyring when the channel is saved, and
an empty field keeps the stored one. A channel that cannot be saved says why under the form; nothing is saved
then. The dialog polls the channels' states (a few times a second) and never waits on the network.
"""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.dialogs.sound_row import SoundChoice, SoundRow
from engine.alerts.dispatcher import ChannelState

KINDS = ("webhook", "ntfy", "telegram")
LEVELS = ("warning", "danger", "liquidated")
COLUMNS = ("Name", "Type", "Minimum level", "Feed problems", "State")


class Channels(Protocol):
    """What the dialog edits (desktop.window.notifications.WindowNotifications)."""

    items: list[dict[str, Any]]
    problems: dict[str, str]

    def state_of(self, name: str) -> ChannelState | None: ...
    def save(
        self, item: dict[str, Any], url: str = "", token: str = "", replacing: str | None = None
    ) -> str | None: ...
    def remove(self, name: str) -> None: ...
    def send_test(self, name: str) -> str | None: ...


class NotificationsDialog(QDialog):
    """The sound's row (with a `sound`), the channels in a table (state included), a form for the selected or a
    new one, and its buttons."""

    def __init__(
        self, channels: Channels, parent: QWidget | None = None, poll_ms: int = 250, sound: SoundChoice | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Notification channels")
        self.channels = channels
        self.testing: tuple[str, ChannelState | None] | None = None
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selected)
        layout = QVBoxLayout(self)
        self.sound_row = SoundRow(sound) if sound is not None else None
        if self.sound_row is not None:
            layout.addWidget(self.sound_row)
        layout.addWidget(self.table)
        layout.addLayout(self._form())
        layout.addLayout(self._buttons())
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.resize(760, 460)
        self._fill()
        self.timer = QTimer(self)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    def _form(self) -> QFormLayout:
        form = QFormLayout()
        self.name = QLineEdit()
        self.kind = QComboBox()
        self.kind.addItems(KINDS)
        self.kind.currentTextChanged.connect(self._kind_changed)
        self.level = QComboBox()
        self.level.addItems(LEVELS)
        self.feed = QCheckBox("also stale prices and blind feeds")
        self.feed.setChecked(True)
        self.chat = QLineEdit()
        self.chat.setPlaceholderText("Telegram: the chat's number, or @channelname")
        self.url = QLineEdit()
        self.token = QLineEdit()
        for field in (self.url, self.token):
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setPlaceholderText("kept in the keyring; empty keeps the stored one")
        for label, widget in (
            ("Name", self.name),
            ("Type", self.kind),
            ("Minimum level", self.level),
            ("Feed problems", self.feed),
            ("Chat", self.chat),
            ("URL", self.url),
            ("Token", self.token),
        ):
            form.addRow(label, widget)
        self._kind_changed(self.kind.currentText())
        return form

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.new_button = QPushButton("New")
        self.save_button = QPushButton("Save channel")
        self.remove_button = QPushButton("Remove")
        self.test_button = QPushButton("Send test")
        self.new_button.clicked.connect(self._new)
        self.save_button.clicked.connect(self._save)
        self.remove_button.clicked.connect(self._remove)
        self.test_button.clicked.connect(self._test)
        for button in (self.new_button, self.save_button, self.remove_button, self.test_button):
            row.addWidget(button)
        row.addStretch(1)
        return row

    # -- the table ----------------------------------------------------------------------------------

    def _fill(self, select: str | None = None) -> None:
        self.table.setRowCount(len(self.channels.items))
        for row, item in enumerate(self.channels.items):
            cells = (
                str(item.get("name", "")),
                str(item.get("type", "")),
                str(item.get("min_level", "warning")),
                "yes" if item.get("feed_problems", True) else "no",
                self.state_text(str(item.get("name", ""))),
            )
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
            if item.get("name") == select:
                self.table.selectRow(row)
        self._selected()

    def state_text(self, name: str) -> str:
        """A channel's state in words: its ChannelState.describe(), or why it is not running."""
        state = self.channels.state_of(name)
        if state is None:
            return f"not running: {self.channels.problems.get(name, 'unknown')}"
        return state.summary()

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.channels.items[rows[0].row()].get("name") if rows else None

    @Slot()
    def _selected(self) -> None:
        name = self.selected_name()
        self.remove_button.setEnabled(name is not None)
        self.test_button.setEnabled(name is not None)
        item = next((i for i in self.channels.items if i.get("name") == name), None)
        if item is None:
            return
        self.name.setText(str(item.get("name", "")))
        self.kind.setCurrentText(str(item.get("type", "webhook")))
        self.level.setCurrentText(str(item.get("min_level", "warning")))
        self.feed.setChecked(bool(item.get("feed_problems", True)))
        self.chat.setText(str(item.get("chat_id", "")))
        self.url.clear()
        self.token.clear()

    @Slot(str)
    def _kind_changed(self, kind: str) -> None:
        self.chat.setEnabled(kind == "telegram")
        self.url.setEnabled(kind != "telegram")
        self.token.setEnabled(kind != "webhook")
        self.token.setToolTip("ntfy: an access token, optional" if kind == "ntfy" else "the bot's token (@BotFather)")

    # -- the buttons --------------------------------------------------------------------------------

    def entered(self) -> dict[str, Any]:
        """The form as a channels[] item (engine.alerts.config)."""
        item: dict[str, Any] = {
            "name": self.name.text().strip(),
            "type": self.kind.currentText(),
            "min_level": self.level.currentText(),
            "feed_problems": self.feed.isChecked(),
        }
        if item["type"] == "telegram":
            item["chat_id"] = self.chat.text().strip()
        return item

    @Slot()
    def _new(self) -> None:
        self.table.clearSelection()
        for field in (self.name, self.chat, self.url, self.token):
            field.clear()

    @Slot()
    def _save(self) -> None:
        item = self.entered()
        problem = self.channels.save(item, self.url.text(), self.token.text(), replacing=self.selected_name())
        if problem:
            self.say(f"Not saved: {problem}", error=True)
            return
        self.url.clear()
        self.token.clear()
        self._fill(select=item["name"])
        self.say(f"Saved '{item['name']}'.")

    @Slot()
    def _remove(self) -> None:
        name = self.selected_name()
        if name is not None:
            self.channels.remove(name)
            self._new()
            self._fill()
            self.say(f"Removed '{name}' and its secrets.")

    @Slot()
    def _test(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        before = self.channels.state_of(name)
        problem = self.channels.send_test(name)
        if problem:
            self.say(f"Cannot send a test to '{name}': {problem}", error=True)
            return
        self.testing = (name, before)
        self.say(f"Sending a test to '{name}'…")

    @Slot()
    def _poll(self) -> None:
        """Refresh the State column and the sound's state; say how a test went once its channel's state moved."""
        if self.sound_row is not None:
            self.sound_row.refresh(force=False)
        for row, item in enumerate(self.channels.items):
            cell = self.table.item(row, len(COLUMNS) - 1)
            if cell is not None:
                cell.setText(self.state_text(str(item.get("name", ""))))
        if self.testing is None:
            return
        name, before = self.testing
        now = self.channels.state_of(name)
        if now is None or now == before or now.queued:
            return
        sent = before is None or now.sent > before.sent
        if sent and now.status == "ok":
            self.say(f"Test sent to '{name}': {now.describe()}")
            self.testing = None
        elif now.status == "failing":
            self.say(f"Test to '{name}' failed: {now.last_error}", error=True)
            if before is None or now.dropped > before.dropped:
                self.testing = None

    def say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #b00020" if error else "")
