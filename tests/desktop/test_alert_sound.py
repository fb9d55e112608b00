"""The alert sound: a fake player first on PATH (a shell script writing its arguments to a file) stands in for
pw-play. A danger alert plays danger.wav, once per frame however many alerts it holds (the start-up flood
too); the setting (off / danger and liquidated / every alert) is obeyed, saved with the book and edited in the
notifications dialog; acknowledged and snoozed positions never ring; no player is the beep, and a failing
player is a status line, a beep and the next player, never an exception."""

from __future__ import annotations

import logging
import os
import tomllib
import wave
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from desktop.app import WindowOptions, build_window, demo_portfolio
from desktop.dialogs.notifications_dialog import NotificationsDialog
from desktop.platform import alert_sound
from desktop.platform.alert_sound import BEEP, PLAYER_ENV, AlertSound, find_players, sound_file
from desktop.window.main_window import MainWindow
from desktop.window.sound_setting import SOUND_SETTING, SoundSetting, sound_choice_from_setting
from engine.market.prices import PriceStore
from engine.storage.database import BookDatabase, StorageError
from engine.storage.paths import database_path

ROOT = Path(__file__).resolve().parents[2]
DOGE = ("binanceusdm", "DOGE/USDT:USDT")
ETH = ("binanceusdm", "ETH/USDT:USDT")


class FakePlayers:
    """Executable scripts named like the real players in a folder put first on PATH; each appends
    '<its name> <its arguments>' to `log`."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = folder / "bin"
        self.folder.mkdir()
        self.log = folder / "played.txt"
        monkeypatch.delenv(PLAYER_ENV)
        monkeypatch.setenv("PATH", f"{self.folder}{os.pathsep}{os.environ.get('PATH', '')}")

    def add(self, name: str, body: str = "exit 0") -> None:
        script = self.folder / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{self.log}"\n{body}\n')
        script.chmod(0o755)

    def played(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def players(tmp_path, monkeypatch) -> FakePlayers:
    return FakePlayers(tmp_path, monkeypatch)


@pytest.fixture
def beeps(monkeypatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(QApplication, "beep", staticmethod(lambda: calls.append(1)))
    return calls


def liquidation_prices(window: MainWindow) -> dict[tuple[str, str], float]:
    """Each long position's liquidation price on Binance main, by price key."""
    out = {}
    for row, position in enumerate(window.portfolio.book.positions):
        if position.account == "Binance main" and position.side == "long":
            out[("binanceusdm", position.symbol)] = window.model._rows[row].liquidation_price
    return out


def open_window(qtbot, tmp_path, marks=None) -> tuple[MainWindow, PriceStore]:
    portfolio = demo_portfolio()
    store = PriceStore()
    for key, mark in {**portfolio.price_map(), **(marks or {})}.items():
        store.set_manual(key, mark)
    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)
    window = MainWindow(portfolio, "demo book", store, settings=settings)
    qtbot.addWidget(window)
    return window, store


def move(window: MainWindow, store: PriceStore, distances: dict[tuple[str, str], float]) -> None:
    """Set each key's mark at a distance to its (long) liquidation price, then one refresh: one frame."""
    liquidation = liquidation_prices(window)
    for key, distance in distances.items():
        store.set_manual(key, liquidation[key] / (1 - distance))
    window.refresh()


def settled(qtbot, window: MainWindow) -> None:
    """Every player started has exited and been reaped."""
    qtbot.waitUntil(lambda: not window.channels.sound.player.running, timeout=5000)


def test_a_danger_alert_plays_danger_wav_and_two_alerts_in_one_frame_play_once(qtbot, tmp_path, players, beeps):
    players.add("pw-play")
    window, store = open_window(qtbot, tmp_path)
    assert window.channels.sound.choice == "danger"  # the default
    assert players.played() == []  # the demo starts in warning only: nothing rang
    move(window, store, {DOGE: 0.03})
    settled(qtbot, window)
    assert players.played() == [f"pw-play {sound_file('danger')}"]
    assert window.alerts[-1].new.label == "danger"

    before = len(window.alerts)
    move(window, store, {DOGE: -0.10, ETH: -0.10})  # both beyond liquidation in the same frame
    settled(qtbot, window)
    assert len(window.alerts) >= before + 2
    assert players.played() == [f"pw-play {sound_file('danger')}"] * 2  # one more, not two
    assert beeps == []
    window.close()


def test_a_warning_rings_only_with_every_alert_and_off_rings_nothing(qtbot, tmp_path, players):
    players.add("pw-play")
    window, store = open_window(qtbot, tmp_path)
    move(window, store, {DOGE: 0.14})
    assert window.alerts[-1].new.label == "warning"
    settled(qtbot, window)
    assert players.played() == []  # "danger and liquidated": a warning plays nothing

    window.session.book_alerts.policy.repeat_after = 0.0  # each new crossing is a new alert
    assert window.channels.sound.set_choice("every") is None
    move(window, store, {DOGE: 0.30})
    move(window, store, {DOGE: 0.14})
    settled(qtbot, window)
    assert players.played() == [f"pw-play {sound_file('warning')}"]

    assert window.channels.sound.set_choice("off") is None
    move(window, store, {DOGE: 0.01})
    assert window.alerts[-1].new.label == "danger"
    settled(qtbot, window)
    assert len(players.played()) == 1  # off: nothing more
    window.close()


def test_the_start_up_flood_of_levels_already_crossed_rings_once(qtbot, tmp_path, players):
    players.add("pw-play")
    first, _ = open_window(qtbot, tmp_path / "a")
    liquidation = liquidation_prices(first)
    first.close()
    beyond = {key: price * 0.9 for key, price in liquidation.items()}  # every Binance main long liquidated
    window, _ = open_window(qtbot, tmp_path, beyond)
    assert sum(a.new.label == "liquidated" for a in window.alerts) >= 2
    settled(qtbot, window)
    assert players.played() == [f"pw-play {sound_file('danger')}"]
    window.close()


def test_acknowledged_and_snoozed_positions_never_ring_a_worse_level_does(qtbot, tmp_path, players):
    players.add("pw-play")
    window, store = open_window(qtbot, tmp_path)
    window.session.book_alerts.policy.repeat_after = 0.0
    move(window, store, {DOGE: 0.03})
    settled(qtbot, window)
    window.alert_list.setCurrentRow(0)  # DOGE's danger
    window.channels.acknowledge_selected()
    move(window, store, {DOGE: 0.30})
    move(window, store, {DOGE: 0.03})  # danger again: acknowledged
    assert window.alerts[-1].new.label == "danger" and not window.alerts[-1].repeat
    settled(qtbot, window)
    assert len(players.played()) == 1
    move(window, store, {DOGE: -0.05})  # liquidated: worse, it rings
    settled(qtbot, window)
    assert len(players.played()) == 2

    window.alert_list.setCurrentRow(0)
    window.channels.snooze_selected(3600)
    assert "and no sound" in window.statusBar().currentMessage()
    move(window, store, {DOGE: 0.30})
    move(window, store, {DOGE: 0.03})
    assert window.alerts[-1].new.label == "danger"
    settled(qtbot, window)
    assert len(players.played()) == 2  # snoozed
    window.close()


def test_without_a_player_the_alert_beeps_once_per_frame(qtbot, tmp_path, players, beeps, monkeypatch):
    monkeypatch.setenv("PATH", str(players.folder))  # an empty folder: no player, whatever this machine has
    window, store = open_window(qtbot, tmp_path)
    move(window, store, {DOGE: -0.10, ETH: -0.10})
    assert beeps == [1]
    none_found = "no pw-play, paplay, aplay found: often silent on Linux"
    assert window.channels.sound.state() == f"plays with {BEEP} ({none_found})"
    window.close()


def test_a_failing_player_is_a_status_line_and_a_beep_and_the_next_player_takes_over(
    qtbot, tmp_path, players, beeps, caplog
):
    players.add("pw-play", 'echo "pw-play: no such device" >&2\nexit 1')
    players.add("paplay")
    window, store = open_window(qtbot, tmp_path)
    with caplog.at_level(logging.WARNING, logger="marginwatch.sound"):
        move(window, store, {DOGE: 0.03})  # does not raise
        settled(qtbot, window)
    expected = "Alert sound: pw-play failed (exit code 1: pw-play: no such device); paplay plays the alerts from now on"
    assert window.statusBar().currentMessage() == expected
    assert [r.getMessage() for r in caplog.records] == [expected]  # one line in the log
    assert beeps == [1]  # the lost sound is a beep
    window.session.book_alerts.policy.repeat_after = 0.0
    move(window, store, {DOGE: 0.30})
    move(window, store, {DOGE: 0.03})
    settled(qtbot, window)
    danger = sound_file("danger")
    assert players.played() == [f"pw-play {danger}", f"paplay {danger}"]  # pw-play not tried again
    assert window.channels.sound.state() == "plays with paplay (pw-play failed: exit code 1: pw-play: no such device)"
    window.close()


def test_a_player_that_cannot_start_or_hangs_is_given_up_without_an_exception(qtbot, tmp_path, monkeypatch, beeps):
    monkeypatch.setattr(alert_sound, "GIVE_UP_AFTER", 0.2)
    hung = tmp_path / "hung"
    hung.write_text("#!/bin/sh\nexec sleep 30\n")
    hung.chmod(0o755)
    said: list[str] = []
    sound = AlertSound(say=said.append, environ={PLAYER_ENV: str(tmp_path / "missing-player")})
    assert sound.play("danger") == BEEP  # cannot start: the beep at once
    assert beeps == [1] and said[0].startswith(f'Alert sound: "{tmp_path / "missing-player"}" failed (')

    sound = AlertSound(say=said.append, environ={PLAYER_ENV: f"{hung} --quiet"})
    assert sound.play("warning") == f'"{hung} --quiet"'  # the command as given
    qtbot.waitUntil(lambda: not sound.running, timeout=5000)  # stopped after 0.2 s, then reaped
    stopped = f'Alert sound: "{hung} --quiet" failed (still running after 0.2 s, stopped)'
    assert said[-1] == f"{stopped}; {BEEP} plays the alerts from now on"
    assert sound.play("warning") == BEEP


def test_the_players_searched_by_platform_and_the_environment_variable(qtbot):
    found = {"pw-play", "aplay", "afplay"}

    def which(name, path=None):
        return f"/usr/bin/{name}" if name in found else None

    assert find_players({}, "linux", which) == [["/usr/bin/pw-play"], ["/usr/bin/aplay", "-q"]]
    assert find_players({}, "darwin", which) == [["/usr/bin/afplay"]]
    assert find_players({}, "win32", which) == []  # winsound
    assert find_players({PLAYER_ENV: "none"}, "linux", which) == []
    assert find_players({PLAYER_ENV: "mpv --really-quiet"}, "linux", which) == [["mpv", "--really-quiet"]]
    said: list[str] = []
    sound = AlertSound(say=said.append, environ={PLAYER_ENV: 'mpv "--volume=50'})  # an unclosed quote
    assert sound.method() == BEEP
    assert said == [f"Alert sound: {PLAYER_ENV} cannot be read (No closing quotation): {BEEP} plays"]


def test_an_empty_command_or_a_folder_is_said_in_words_naming_the_command_as_given(qtbot, tmp_path, beeps):
    said: list[str] = []
    sound = AlertSound(say=said.append, environ={PLAYER_ENV: '""'})
    assert sound.method() == BEEP and sound.play("danger") == BEEP
    assert said == [f'Alert sound: the command in {PLAYER_ENV} ("") is empty: {BEEP} plays']
    said.clear()
    sound = AlertSound(say=said.append, environ={PLAYER_ENV: str(tmp_path)})  # a folder: cannot be run
    assert sound.play("danger") == BEEP
    assert said == [f'Alert sound: "{tmp_path}" failed (Permission denied); {BEEP} plays the alerts from now on']


def test_home_and_variables_in_the_command_are_expanded(qtbot, tmp_path, monkeypatch):
    folder = tmp_path / "bin"
    folder.mkdir()
    played = tmp_path / "played.txt"
    script = folder / "my player"
    script.write_text(f'#!/bin/sh\necho "$*" >> "{played}"\n')
    script.chmod(0o755)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("VOLUME", "50")
    argv = find_players({PLAYER_ENV: '"~/bin/my player" --volume=$VOLUME'}, "linux")
    assert argv == [[str(script), "--volume=50"]]
    sound = AlertSound(environ={PLAYER_ENV: '"$HOME/bin/my player" -q'})
    assert sound.play("danger") == '""$HOME/bin/my player" -q"'
    qtbot.waitUntil(lambda: not sound.running, timeout=5000)
    assert played.read_text() == f"-q {sound_file('danger')}\n" and sound.failures == {}


def test_a_player_writing_more_than_a_pipe_holds_to_stderr_still_exits_and_is_read(qtbot, tmp_path, beeps):
    chatty = tmp_path / "chatty"  # 200 KB on stderr, more than a pipe's 64 KB, then a failure
    chatty.write_text("#!/bin/sh\nhead -c 200000 /dev/zero | tr '\\0' x >&2\necho >&2\nexit 4\n")
    chatty.chmod(0o755)
    said: list[str] = []
    sound = AlertSound(say=said.append, environ={PLAYER_ENV: str(chatty)})
    sound.play("danger")
    qtbot.waitUntil(lambda: not sound.running, timeout=5000)  # exited: not stopped after GIVE_UP_AFTER
    assert sound.failures[f'"{chatty}"'].startswith("exit code 4: xxxx")
    assert "still running" not in said[0] and beeps == [1]


def test_the_choice_is_saved_with_the_book_and_read_back(qtbot, tmp_path):
    with BookDatabase.open(database_path(str(tmp_path))) as db:
        db.import_portfolio(demo_portfolio())
    first = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(first)
    assert first.channels.sound.choice == "danger"
    assert first.channels.sound.set_choice("every") is None
    first.close()
    second = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(second)
    assert second.channels.sound.choice == "every"
    second.close()
    with BookDatabase.open(database_path(str(tmp_path))) as db:
        assert db.setting(SOUND_SETTING) == "every"
        db.set_setting(SOUND_SETTING, "loud")  # an edited file
    assert sound_choice_from_setting("loud") == sound_choice_from_setting(None) == "danger"


class RefusingBook:
    def setting(self, key, default=None):
        return "off"

    def set_setting(self, key, value):
        raise StorageError("the disk is full")


def test_a_choice_that_cannot_be_saved_changes_nothing_and_says_why(qtbot, tmp_path):
    window, _ = open_window(qtbot, tmp_path)
    sound = SoundSetting(window, lambda: RefusingBook(), player=window.channels.sound.player)
    assert sound.choice == "off"
    assert sound.set_choice("every") == "the disk is full"
    assert sound.choice == "off"
    dialog = NotificationsDialog(window.channels, window, poll_ms=20, sound=sound)
    qtbot.addWidget(dialog)
    row = dialog.sound_row
    assert row.box.currentText() == "Off"
    row.box.setCurrentIndex(row.box.findData("every"))
    assert row.note.text() == "Sound setting not saved: the disk is full"
    assert row.box.currentText() == "Off"  # back to the choice in force
    dialog.close()
    window.close()


def test_the_dialogs_sound_box_and_test_button(qtbot, tmp_path, players):
    players.add("pw-play", "exit 3")
    players.add("aplay")
    window, _ = open_window(qtbot, tmp_path)
    dialog = NotificationsDialog(window.channels, window, poll_ms=20, sound=window.channels.sound)
    qtbot.addWidget(dialog)
    row = dialog.sound_row
    assert [row.box.itemText(i) for i in range(row.box.count())] == ["Off", "Danger and liquidated", "Every alert"]
    assert row.box.currentText() == "Danger and liquidated"
    assert row.note.text() == "Sound plays with pw-play"
    row.box.setCurrentIndex(row.box.findData("every"))
    assert window.channels.sound.choice == "every"
    qtbot.mouseClick(row.test_button, Qt.MouseButton.LeftButton)
    assert row.note.text() == "Test sound played with pw-play"
    # pw-play exits 3: the dialog's poll shows it, and the next test goes to aplay
    qtbot.waitUntil(lambda: row.note.text() == "Sound plays with aplay (pw-play failed: exit code 3)", timeout=5000)
    qtbot.mouseClick(row.test_button, Qt.MouseButton.LeftButton)
    settled(qtbot, window)
    danger = sound_file("danger")
    assert players.played() == [f"pw-play {danger}", f"aplay -q {danger}"]
    dialog.close()
    window.close()


def test_the_bundled_sounds_are_short_quiet_16_bit_mono_and_made_by_the_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_sounds", ROOT / "packaging" / "make_sounds.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    for name in alert_sound.SOUNDS:
        path = sound_file(name)
        with wave.open(str(path)) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 44_100)
            assert 0.3 <= wav.getnframes() / wav.getframerate() <= 0.5
            frames = wav.readframes(wav.getnframes())
        values = memoryview(frames).cast("h")
        assert 0.1 * 32767 < max(abs(v) for v in values) <= 0.35 * 32767  # heard, not startling
        made = script.samples(name)
        assert len(made) == len(values) and all(abs(a - b) <= 1 for a, b in zip(made, values, strict=True))
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "**/*.wav" in data["marginwatch_resources"]  # installed with the package, not only in a checkout
