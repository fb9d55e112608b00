"""The alert sound: a short bundled WAV (resources/sounds/, made by packaging/make_sounds.py) played by the
system's own player, never waited on by the GUI thread.

PySide6-Essentials has no QtMultimedia, and QApplication.beep() is silent on most Linux desktops, so the
sound is handed to a player program: on Linux the first of pw-play (PipeWire), paplay (PulseAudio, and
PipeWire's pulse server) and aplay (ALSA) found on PATH; on macOS afplay; on Windows the standard library's
winsound (asynchronous). With none, QApplication.beep(). The environment variable MARGINWATCH_SOUND_PLAYER
replaces the search: a command that gets the WAV's path as its last argument (`mpv --really-quiet`), or
`none` for the beep only. The command is split into words with shlex (quotes and backslashes as a POSIX shell
reads them), then `~` and `$VAR` / `${VAR}` are expanded in each word from the environment
(os.path.expanduser, os.path.expandvars; inside quotes too, unlike a shell); there are no pipes, globs or other
shell syntax. Messages name such a player by the command as given, in quotes; an empty command ('""') is
refused: the beep plays.

A player runs on its own: a timer on the GUI thread polls it (Popen.poll, which never blocks) until it has
exited, so no zombie is left. Its stderr goes to an unnamed temporary file, not a pipe: a player writing more
than a pipe holds (64 KB) would block on it and never exit; the first line of it is read after the exit.
A player that fails (an exit code other than 0, a missing sound device, not
finished within GIVE_UP_AFTER) is remembered and not used again this session: its sound becomes a beep, the
next sound goes to the next player found (or the beep), and the failure is one line in the log and one
status message (`say`), never a dialog.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from importlib.resources import as_file
from pathlib import Path
from typing import IO

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication, QWidget

from engine.margin.bundled import resource

log = logging.getLogger("marginwatch.sound")  # a child of the crash reporter's logger: it reaches marginwatch.log

SOUNDS = ("warning", "danger")
"""The bundled sounds: resources/sounds/<name>.wav."""
PLAYER_ENV = "MARGINWATCH_SOUND_PLAYER"
"""The environment variable naming the player command to use instead of the search ('none': the beep only)."""
LINUX_PLAYERS: tuple[tuple[str, ...], ...] = (("pw-play",), ("paplay",), ("aplay", "-q"))
"""Linux players in the order tried: the program and its options before the WAV's path."""
MAC_PLAYERS: tuple[tuple[str, ...], ...] = (("afplay",),)
GIVE_UP_AFTER = 10.0
"""Seconds a player may run before it is stopped and counted as failed (the sounds last 0.4 s)."""
POLL_MS = 100
"""How often a running player is polled for its exit, in milliseconds."""
BEEP = "the system beep"
STDERR_READ = 4096
"""Bytes of a failed player's stderr read for its message (the first line of them is shown)."""
_KEEP = ExitStack()
_EXTRACTED: dict[str, Path] = {}


def sound_file(name: str) -> Path:
    """The bundled WAV of a sound (one of SOUNDS) as a file on disk. Raises FileNotFoundError when it is missing."""
    node = resource("sounds", f"{name}.wav")
    if not node.is_file():
        raise FileNotFoundError(f"the bundled sound {name}.wav is missing")
    if isinstance(node, Path):
        return node
    if name not in _EXTRACTED:  # inside an archive: a copy on disk, kept until the process exits
        if not _EXTRACTED:
            atexit.register(_KEEP.close)
        _EXTRACTED[name] = _KEEP.enter_context(as_file(node))
    return _EXTRACTED[name]


def find_players(
    environ: Mapping[str, str], platform: str, which: Callable[..., str | None] = shutil.which
) -> list[list[str]]:
    """The player commands to try, in order, each the argv before the WAV's path: MARGINWATCH_SOUND_PLAYER's
    (split with shlex, then `~` and `$VAR` expanded in each word from os.environ: see the module docstring;
    none for 'none'), else the platform's players found on environ's PATH. Windows has none (winsound plays
    there). Raises ValueError with the reason in words when MARGINWATCH_SOUND_PLAYER cannot be split (an
    unclosed quote) or its command is empty ('""')."""
    chosen = environ.get(PLAYER_ENV, "").strip()
    if chosen:
        if chosen.lower() == "none":
            return []
        import shlex  # only for a player named in the environment (start-up time)

        try:
            words = shlex.split(chosen, posix=not platform.startswith("win"))
        except ValueError as e:
            raise ValueError(f"{PLAYER_ENV} cannot be read ({e})") from None
        argv = [os.path.expanduser(os.path.expandvars(word)) for word in words]
        if not argv or not argv[0].strip():
            raise ValueError(f"the command in {PLAYER_ENV} ({chosen}) is empty")
        return [argv]
    if platform.startswith("win"):
        return []
    candidates = MAC_PLAYERS if platform == "darwin" else LINUX_PLAYERS
    found = []
    for program, *options in candidates:
        path = which(program, path=environ.get("PATH", os.defpath))
        if path is not None:
            found.append([path, *options])
    return found


@dataclass
class _Playing:
    process: subprocess.Popen[bytes]
    player: str
    started: float
    stderr: IO[bytes]
    killed: bool = False


class AlertSound(QObject):
    """Plays a bundled sound without waiting for it (see the module docstring).

    play(name) starts it and says how (the player's name or BEEP); `players` are the commands still usable,
    `failures` each failed player's name -> why; `running` the players not yet reaped. `say(text)` gets the
    status line of a failure.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        say: Callable[[str], None] | None = None,
        environ: Mapping[str, str] | None = None,
        platform: str = sys.platform,
    ) -> None:
        super().__init__(parent)
        self.say = say
        self.platform = platform
        environ = os.environ if environ is None else environ
        self.failures: dict[str, str] = {}
        chosen = environ.get(PLAYER_ENV, "").strip()
        self._command = chosen if chosen.lower() != "none" else ""  # as given; '' when the players are searched
        try:
            self.players = find_players(environ, platform)
        except ValueError as e:
            self.players = []
            self._tell(PLAYER_ENV, str(e), f"Alert sound: {e}: {BEEP} plays")
        self.running: list[_Playing] = []
        self._winsound = platform.startswith("win") and not environ.get(PLAYER_ENV)
        self._searched_linux = platform.startswith("linux") and not environ.get(PLAYER_ENV, "").strip()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.reap)

    def method(self) -> str:
        """What the next sound is played with: a player's name, 'winsound', or BEEP."""
        if self._winsound:
            return "winsound"
        return self.name(self.players[0]) if self.players else BEEP

    def name(self, argv: Sequence[str]) -> str:
        """A player in messages: the command as given in MARGINWATCH_SOUND_PLAYER, in quotes ('"~/bin/play
        -q"'), or a searched player's program name ('pw-play')."""
        return f'"{self._command}"' if self._command else Path(argv[0]).name

    def state(self) -> str:
        """The sound's state in words: 'plays with pw-play', with each player that failed and why, or that none
        was found on Linux (where the beep is mostly silent)."""
        notes = [f"{name} failed: {why}" for name, why in self.failures.items()]
        if self._searched_linux and not self.players and not self.failures:
            notes.append(f"no {', '.join(p[0] for p in LINUX_PLAYERS)} found: often silent on Linux")
        return f"plays with {self.method()}" + (f" ({'; '.join(notes)})" if notes else "")

    def play(self, name: str) -> str:
        """Start the sound `name` (one of SOUNDS) and return what plays it. Never raises, never waits."""
        try:
            path = sound_file(name)
        except FileNotFoundError as e:
            self._tell(f"{name}.wav", str(e), f"Alert sound: {e}; {BEEP} instead")
            return self._beep()
        if self._winsound:
            return self._play_windows(path)
        while self.players:
            argv = self.players[0]
            stderr = tempfile.TemporaryFile()  # noqa: SIM115  # closed when reaped; never a pipe (a full one blocks)
            try:
                process = subprocess.Popen(  # reaped by the timer: never waited on here
                    [*argv, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
                )
            except OSError as e:
                stderr.close()
                self._failed(self.name(argv), e.strerror or str(e))
                continue
            self.running.append(_Playing(process, self.name(argv), time.monotonic(), stderr))
            self._timer.start()
            return self.running[-1].player
        return self._beep()

    def _play_windows(self, path: Path) -> str:
        import winsound  # type: ignore[import-not-found,unused-ignore]  # Windows only

        try:
            winsound.PlaySound(str(path), winsound.SND_FILENAME | winsound.SND_ASYNC | winsound.SND_NODEFAULT)
        except RuntimeError as e:
            self._winsound = False
            self._failed("winsound", str(e))
            return self._beep()
        return "winsound"

    @staticmethod
    def _beep() -> str:
        QApplication.beep()
        return BEEP

    @Slot()
    def reap(self) -> None:
        """Collect the players that have exited (a failed one: remembered, its sound a beep); stop one that has
        run for GIVE_UP_AFTER seconds. Runs on the timer while any player runs."""
        for playing in list(self.running):
            code = playing.process.poll()
            if code is None:
                if not playing.killed and time.monotonic() - playing.started > GIVE_UP_AFTER:
                    playing.process.kill()
                    playing.killed = True
                    self._failed(playing.player, f"still running after {GIVE_UP_AFTER:g} s, stopped")
                continue
            self.running.remove(playing)
            playing.stderr.seek(0)
            stderr = playing.stderr.read(STDERR_READ)
            playing.stderr.close()
            if code != 0 and not playing.killed:
                lines = stderr.decode(errors="replace").strip().splitlines()
                self._failed(playing.player, f"exit code {code}" + (f": {lines[0]}" if lines else ""))
                self._beep()
        if not self.running:
            self._timer.stop()

    def _failed(self, player: str, why: str) -> None:
        """Remember a failed player (not used again), log it and say it once."""
        self.players = [argv for argv in self.players if self.name(argv) != player]
        self._tell(player, why, f"Alert sound: {player} failed ({why}); {self.method()} plays the alerts from now on")

    def _tell(self, what: str, why: str, text: str) -> None:
        if what in self.failures:
            return
        self.failures[what] = why
        log.warning(text)
        if self.say is not None:
            self.say(text)
