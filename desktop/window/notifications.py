"""The window's alert channels: the same dispatcher and relay as `watch --alerts-config` (engine.alerts), fed
by the window's session, set up in Settings ▸ Notification channels…, acknowledged and snoozed per position;
and the window's alert sound (desktop.window.sound_setting), which leaves out the same acknowledged and snoozed
positions.

The channels (name, type, minimum level, feed problems, rate limit, Telegram chat) are saved in the app's
settings (QSettings "alerts/channels", the config file's "channels" list as JSON): they belong to this user
and computer, not to the book. Their URLs and tokens are in the keyring (engine.alerts.channel_secrets),
never in the settings. A channel whose secret cannot be found is listed with the reason and not run.
Sending happens on the dispatcher's threads: a failing channel is a status message and its state in the
dialog, never a dialog of its own and never a wait on the GUI thread.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from desktop.window.alert_list import AlertList
from desktop.window.sound_setting import SoundSetting
from engine.monitor.alerts import Alert
from engine.monitor.frame import Frame
from engine.monitor.levels import Level
from engine.monitor.session import WatchSession

if TYPE_CHECKING:  # the channels' config, dispatcher and relay are imported once a channel is set up
    from engine.alerts.dispatcher import ChannelState, Dispatcher, Timing
    from engine.alerts.relay import AlertRelay
    from engine.storage.database import BookDatabase

CHANNELS_SETTING = "alerts/channels"


class NotificationsHost(Protocol):
    """What the channels need of the window (desktop.window.main_window.MainWindow)."""

    session: WatchSession
    settings: QSettings | None
    database: BookDatabase | None

    def say(self, text: str) -> None: ...


SNOOZES = (
    (3600.0, "Snooze this position's alerts for 1 hour"),
    (8 * 3600.0, "Snooze this position's alerts for 8 hours"),
)


class WindowNotifications(QObject):
    """The window's channels and their dispatcher: on_step(frame) after each session step (the first frame's
    alerts are sent, and ring, at construction); the menu gets "Notification channels…", the alert list a
    context menu to snooze a position's alerts on the channels and the sound for a time (the dock still lists
    them). The window's `say` shows channel states; the channels close with the window (an event filter on it).
    `sound` is the window's alert sound and its setting."""

    def __init__(
        self,
        window: QWidget,
        menu: QMenu | None = None,
        alert_list: AlertList | None = None,
        first: Frame | None = None,
        timing: Timing | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(window)
        host: NotificationsHost = window  # type: ignore[assignment]
        self._window, self.session, self.settings, self.say = window, host.session, host.settings, host.say
        self.timing = timing
        self.environ = os.environ if environ is None else environ
        self.items: list[dict[str, Any]] = self._load()
        self.problems: dict[str, str] = {}
        """Channels that could not start, by name: why (a missing secret, a setting no longer valid)."""
        self.snoozed: dict[Hashable, float] = {}
        """Position key -> wall-clock seconds until which its alerts are not sent."""
        self.acknowledged: dict[Hashable, Level] = {}
        """Position key -> the level acknowledged: alerts at it or below are not sent; a worse one ends it."""
        self.dispatcher: Dispatcher | None = None
        self.relay: AlertRelay | None = None
        self._relay_book: object = None
        self.sound = SoundSetting(window, lambda: host.database, self.say)
        self.restart()
        window.installEventFilter(self)
        if menu is not None:
            menu.addAction("&Notification channels…").triggered.connect(self.edit)
        self.alert_list = alert_list
        if alert_list is not None:
            self._add_snooze_menu(alert_list)
        if first is not None:
            self.on_step(first)

    # -- channels -----------------------------------------------------------------------------------

    def _load(self) -> list[dict[str, Any]]:
        text = self.settings.value(CHANNELS_SETTING, "[]") if self.settings is not None else "[]"
        try:
            items = json.loads(str(text))
        except ValueError:
            return []
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    def _save(self) -> None:
        if self.settings is not None:
            self.settings.setValue(CHANNELS_SETTING, json.dumps(self.items))

    def restart(self) -> None:
        """(Re)start the dispatcher on the channels whose settings and secrets are usable."""
        if self.dispatcher is not None:
            self.dispatcher.close(wait=False)
        self.dispatcher = self.relay = None
        self.problems = {}
        if not self.items:  # no channel: the alerts machinery stays unimported (start-up time)
            return
        from engine.alerts.config import AlertsConfigError, channel_from_item
        from engine.alerts.dispatcher import Dispatcher

        channels = []
        for item in self.items:
            try:
                channels.append(channel_from_item(item, "channel", self.environ))
            except AlertsConfigError as e:
                self.problems[str(item.get("name"))] = str(e)
        if channels:
            self.dispatcher = Dispatcher(channels, self.timing)

    def state_of(self, name: str) -> ChannelState | None:
        """A running channel's state (None when it is not running: see problems)."""
        if self.dispatcher is None or name not in self.dispatcher.workers:
            return None
        return self.dispatcher.workers[name].state

    def save(self, item: dict[str, Any], url: str = "", token: str = "", replacing: str | None = None) -> str | None:
        """Add a channel, or replace the one named `replacing`, with the URL / token typed (empty: keep the
        stored one). Checked first, with what was typed, then the secrets go to the keyring and the channel to
        the settings: the reason in words when it cannot be saved (nothing is saved then), else None."""
        from engine.alerts.channel_secrets import SecretMissing, env_name, store_secret
        from engine.alerts.config import AlertsConfigError, channel_from_item

        name = str(item.get("name", "")).strip()
        if any(i.get("name") == name for i in self.items if i.get("name") != replacing):
            return f"there is already a channel called '{name}'"
        typed = {env_name(name, "url"): url.strip(), env_name(name, "token"): token.strip()}
        environ = {**self.environ, **{k: v for k, v in typed.items() if v}}
        try:
            channel_from_item(item, "channel", environ)
            for part, value in (("url", url.strip()), ("token", token.strip())):
                if value:
                    store_secret(name, part, value)
        except (AlertsConfigError, SecretMissing) as e:
            return str(e)
        self.items = [i for i in self.items if i.get("name") != replacing] + [dict(item, name=name)]
        if replacing is not None and replacing != name:  # renamed: the old name's secrets go
            self._forget_secrets(replacing)
        self._save()
        self.restart()
        return None

    def remove(self, name: str) -> None:
        """Forget a channel and its secrets in the keyring."""
        self.items = [i for i in self.items if i.get("name") != name]
        self._forget_secrets(name)
        self._save()
        self.restart()

    def _forget_secrets(self, name: str) -> None:
        from engine.alerts.channel_secrets import SecretMissing, store_secret  # the keyring's: with a channel

        for part in ("url", "token"):
            with contextlib.suppress(SecretMissing):
                store_secret(name, part, "")

    def send_test(self, name: str) -> str | None:
        """Queue a test message on the channel; None, or why it cannot be sent. Its state tells the outcome."""
        if self.state_of(name) is None or self.dispatcher is None:
            return self.problems.get(name, f"'{name}' is not running")
        self.dispatcher.send_test(name)
        return None

    @Slot()
    def edit(self) -> None:
        """Settings ▸ Notification channels…: the dialog on these channels."""
        from desktop.dialogs.notifications_dialog import NotificationsDialog

        NotificationsDialog(self, self._window, sound=self.sound).exec()

    # -- the session's alerts -----------------------------------------------------------------------

    def snooze(self, key: Hashable, seconds: float) -> None:
        """Send nothing and ring nothing for this position for `seconds` (0: end the snooze)."""
        self.snoozed[key] = time.time() + seconds

    def _add_snooze_menu(self, alert_list: AlertList) -> None:
        alert_list.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        acknowledge = QAction("Acknowledge: no more sound or messages for this position till it is worse", alert_list)
        acknowledge.triggered.connect(self.acknowledge_selected)
        alert_list.addAction(acknowledge)
        for seconds, text in (*SNOOZES, (0.0, "End the snooze of this position")):
            action = QAction(text, alert_list)
            action.triggered.connect(lambda _checked=False, s=seconds: self.snooze_selected(s))
            alert_list.addAction(action)

    def acknowledge_selected(self) -> None:
        """Acknowledge the selected alert's position at the alert's level: its alerts at that level or below are
        not sent to the channels and do not ring; a rise to a worse level is sent and ends the acknowledgement."""
        alert = self.alert_list.selected_alert() if self.alert_list is not None else None
        if alert is None:
            self.say("Select an alert of this session to acknowledge it")
            return
        self.acknowledged[alert.key] = alert.new
        level = alert.new.label
        self.say(f"{alert.subject}: acknowledged at {level}; only a worse level is sent to the channels or rings")

    def muted(self, alert: Alert, now: float) -> bool:
        """Whether a snooze or an acknowledgement keeps this alert off the channels, the sound and the desktop
        notification (a worse level ends an acknowledgement). now: Unix seconds (the frame's time)."""
        if self.snoozed.get(alert.key, 0.0) > now:
            return True
        acknowledged = self.acknowledged.get(alert.key)
        if acknowledged is None:
            return False
        if alert.new > acknowledged:
            del self.acknowledged[alert.key]
            return False
        return True

    def snooze_selected(self, seconds: float) -> None:
        """Snooze (or, with 0, unsnooze) the position of the alert selected in the dock; says what it did."""
        alert = self.alert_list.selected_alert() if self.alert_list is not None else None
        if alert is None or not isinstance(alert.key, tuple) or alert.key[:1] == ("account",):
            self.say("Select a position's alert of this session to snooze it")
            return
        self.snooze(alert.key, seconds)
        subject = alert.subject
        if seconds:
            until = time.strftime("%H:%M", time.localtime(time.time() + seconds))
            rest = "and no sound (the dock still lists it)"
            self.say(f"{subject}: nothing sent to the notification channels until {until}, {rest}")
        else:
            self.say(f"{subject}: alerts are sent to the notification channels and ring again")

    def on_step(self, frame: Frame) -> None:
        """Ring once for a step's alerts and relay them (snoozed and acknowledged ones left out of both), and the
        feed problems; a changed channel state becomes a status message."""
        alerts = [a for a in frame.alerts if not self.muted(a, frame.at)]
        self.sound.ring(alerts)
        if self.dispatcher is None:
            return
        book = self.session.book
        if self.relay is None or self._relay_book is not book:
            from engine.alerts.config import DEFAULT_FEED_STALE_AFTER
            from engine.alerts.relay import AlertRelay

            exchange_of = {a.name: a.exchange for a in book.accounts}
            keys = book.price_keys()
            stale = DEFAULT_FEED_STALE_AFTER
            self.relay = AlertRelay(
                self.dispatcher, exchange_of, keys, self.session.stale_after, stale, None, self._state
            )
            self._relay_book = book
        self.relay.observe(alerts, frame.quotes, frame.at)

    def _state(self, state: ChannelState) -> None:
        self.say(f"Alert channel {state.describe()}")

    def close(self) -> None:
        """Send what is queued for up to a second, then stop the channels."""
        if self.dispatcher is not None:
            self.dispatcher.close(timeout=1.0)
            self.dispatcher = self.relay = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Close:
            self.close()
        return False
