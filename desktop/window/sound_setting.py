"""Which alerts ring in the window: Sound off, danger and liquidated (the default), or every alert. Chosen in
Settings ▸ Notification channels…, saved with the book (the saved book's setting SOUND_SETTING); played by
desktop.platform.alert_sound.

At most one sound per frame, whatever the number of alerts in it (the first frame's flood of levels already
crossed at start-up rings once): danger.wav when the worst alert that rings is danger or liquidated, else
warning.wav. A repeat counted into its group's row never rings, and the window leaves out the alerts of
acknowledged and snoozed positions before they get here (desktop.window.notifications).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from desktop.platform.alert_sound import AlertSound
from engine.monitor.alerts import Alert
from engine.monitor.levels import Level

if TYPE_CHECKING:  # the saved book's module is imported when a book is saved
    from engine.storage.database import BookDatabase

SOUND_SETTING = "alert_sound"
"""The saved book's setting: one of SOUND_CHOICES' keys, as a JSON string."""
SOUND_CHOICES: dict[str, tuple[str, Level | None]] = {
    "off": ("Off", None),
    "danger": ("Danger and liquidated", Level.DANGER),
    "every": ("Every alert", Level.WARNING),
}
"""Each choice: its label in the dialog and the least level that rings (None: nothing rings)."""
DEFAULT_SOUND = "danger"


def sound_choice_from_setting(value: Any) -> str:
    """The saved setting read back: a key of SOUND_CHOICES; anything else (none saved, an edited file) is the
    default."""
    return value if isinstance(value, str) and value in SOUND_CHOICES else DEFAULT_SOUND


def sound_name(level: Level) -> str:
    """The bundled sound of a level: 'danger' for danger and liquidated, 'warning' below."""
    return "danger" if level >= Level.DANGER else "warning"


class SoundSetting(QObject):
    """The window's choice and its player. saved_book(): the open saved book (None: the choice lasts this
    session only); the choice is read from each newly opened book. ring(alerts) plays for one frame."""

    choices: tuple[tuple[str, str], ...] = tuple((key, label) for key, (label, _) in SOUND_CHOICES.items())
    """(key, label) of every choice, in the dialog's order."""

    def __init__(
        self,
        parent: QWidget,
        saved_book: Callable[[], BookDatabase | None],
        say: Callable[[str], None] | None = None,
        player: AlertSound | None = None,
    ) -> None:
        super().__init__(parent)
        self._saved_book = saved_book
        self.player = player if player is not None else AlertSound(parent, say)
        self._choice = DEFAULT_SOUND
        self._read_from: object = None

    @property
    def choice(self) -> str:
        """The choice in force: a key of SOUND_CHOICES."""
        database = self._saved_book()
        if database is not None and database is not self._read_from:
            from engine.storage.database import StorageError

            self._read_from = database
            try:
                self._choice = sound_choice_from_setting(database.setting(SOUND_SETTING))
            except StorageError:
                self._choice = DEFAULT_SOUND
        return self._choice

    def set_choice(self, key: str) -> str | None:
        """Use a choice (a key of SOUND_CHOICES) now and save it with the book: None, or why it was not saved
        (nothing changes then). Raises KeyError for an unknown key."""
        if key not in SOUND_CHOICES:
            raise KeyError(key)
        database = self._saved_book()
        if database is not None:
            from engine.storage.database import StorageError

            try:
                database.set_setting(SOUND_SETTING, key)
            except StorageError as e:
                return str(e)
            self._read_from = database
        self._choice = key
        return None

    def ring(self, alerts: Sequence[Alert]) -> str | None:
        """Play one sound for a frame's alerts (acknowledged and snoozed ones already left out): the sound of the
        worst new alert at or above the choice's level. What played it, or None when nothing rang."""
        if not alerts:  # most frames: not even the choice is looked up
            return None
        least = SOUND_CHOICES[self.choice][1]
        if least is None:
            return None
        levels = [a.new for a in alerts if not a.repeat and a.new >= least]
        return self.player.play(sound_name(max(levels))) if levels else None

    def play_test(self) -> str:
        """Play the danger sound whatever the choice (the dialog's "Play test sound"); what played it."""
        return self.player.play("danger")

    def state(self) -> str:
        """How the sound plays, in words (desktop.platform.alert_sound.AlertSound.state)."""
        return self.player.state()
