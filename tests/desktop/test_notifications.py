"""The window's notification channels: the dialog saves a channel (its URL in the keyring, never in the
settings), "Send test" shows the outcome, the window's alerts reach a local webhook (start-up levels too),
and a snoozed position sends nothing."""

from __future__ import annotations

import json

from PySide6.QtCore import QSettings, Qt

from desktop.app import demo_portfolio
from desktop.dialogs.notifications_dialog import NotificationsDialog
from desktop.window.main_window import MainWindow
from desktop.window.notifications import CHANNELS_SETTING
from engine.alerts.channel_secrets import SERVICE, store_secret
from engine.alerts.dispatcher import Timing
from engine.market.prices import PriceStore
from tests.alert_receiver import AlertReceiver, refused_url

FAST = Timing(attempts=2, first_wait=0.01, timeout=1.0)


def window_with(qtbot, tmp_path, channels=()):
    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)
    settings.setValue(CHANNELS_SETTING, json.dumps(list(channels)))
    portfolio = demo_portfolio()
    store = PriceStore()
    for key, mark in portfolio.price_map().items():
        store.set_manual(key, mark)
    window = MainWindow(portfolio, "demo book", store, settings=settings)
    qtbot.addWidget(window)
    return portfolio, store, window, settings


def posted(rx: AlertReceiver) -> list[dict]:
    return [r.json() for r in rx.requests]


def test_the_windows_alerts_reach_the_webhook_start_up_levels_included_and_a_snooze_mutes_one(qtbot, tmp_path):
    with AlertReceiver() as rx:
        store_secret("ops", "url", rx.url("/hook"))
        portfolio, store, window, _ = window_with(qtbot, tmp_path, [{"name": "ops", "type": "webhook"}])
        at_start = len(window.alerts)
        rx.wait_for(at_start)  # the demo starts with positions in warning: each posted once, off the GUI thread
        # a position's key is (account, symbol, side, ...), an account's ("account", name)
        shown = sorted(a.key[1] for a in window.alerts)
        assert sorted(p["symbol"] or p["account"] for p in posted(rx)) == shown
        row = next(i for i, p in enumerate(portfolio.book.positions) if p.symbol == "DOGE/USDT:USDT")
        liquidation = window.model._rows[row].liquidation_price
        store.set_manual(("binanceusdm", "DOGE/USDT:USDT"), liquidation / (1 - 0.14))
        window.refresh()
        doge = rx.wait_for(at_start + 1)[-1].json()
        assert (doge["symbol"], doge["level"], doge["previous_level"]) == ("DOGE/USDT:USDT", "warning", "ok")
        assert doge["liquidation_price"] == liquidation

        window.alert_list.setCurrentRow(0)  # the newest: DOGE's
        window.channels.snooze_selected(3600)
        assert "DOGE/USDT:USDT long: nothing sent to the notification channels until" in (
            window.statusBar().currentMessage()
        )
        store.set_manual(("binanceusdm", "DOGE/USDT:USDT"), liquidation / (1 - 0.03))
        window.refresh()
        assert window.alerts[-1].new.label == "danger"  # the dock lists it
        window.close()  # sends what is queued
        assert len(rx.requests) == at_start + 1  # the channel did not get it


def test_an_acknowledged_position_sends_only_a_worse_level(qtbot, tmp_path):
    with AlertReceiver() as rx:
        store_secret("ops", "url", rx.url("/hook"))
        portfolio, store, window, _ = window_with(qtbot, tmp_path, [{"name": "ops", "type": "webhook"}])
        at_start = len(rx.wait_for(len(window.alerts)))
        row = next(i for i, p in enumerate(portfolio.book.positions) if p.symbol == "DOGE/USDT:USDT")
        liquidation = window.model._rows[row].liquidation_price
        key = ("binanceusdm", "DOGE/USDT:USDT")

        def move_to(distance: float) -> None:
            store.set_manual(key, liquidation / (1 - distance))
            window.refresh()

        move_to(0.14)
        rx.wait_for(at_start + 1)
        window.alert_list.setCurrentRow(0)
        window.channels.acknowledge_selected()
        assert "acknowledged at warning" in window.statusBar().currentMessage()
        move_to(0.30)  # back to ok, then warning again after the 5-minute group: the clock jumps
        window.session.book_alerts.policy.repeat_after = 0.0
        move_to(0.14)
        assert window.alerts[-1].new.label == "warning" and not window.alerts[-1].repeat  # a new alert in the dock
        move_to(0.03)  # danger: worse than acknowledged, sent
        window.close()
        levels = [r.json()["level"] for r in rx.requests[at_start:]]
        assert levels == ["warning", "danger"]


def test_the_dialog_saves_a_channel_with_its_url_in_the_keyring_and_sends_a_test(qtbot, tmp_path, test_keyring):
    with AlertReceiver() as rx:
        _, _, window, settings = window_with(qtbot, tmp_path)
        window.channels.timing = FAST
        dialog = NotificationsDialog(window.channels, window, poll_ms=20)
        qtbot.addWidget(dialog)
        qtbot.keyClicks(dialog.name, "phone")
        dialog.kind.setCurrentText("ntfy")
        dialog.level.setCurrentText("danger")
        qtbot.keyClicks(dialog.url, rx.url("/topic-x"))
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        assert dialog.status.text() == "Saved 'phone'."
        assert test_keyring.passwords[(SERVICE, "phone:url")] == rx.url("/topic-x")
        saved = settings.value(CHANNELS_SETTING)
        assert json.loads(saved) == [{"name": "phone", "type": "ntfy", "min_level": "danger", "feed_problems": True}]
        assert rx.url() not in saved  # the URL is a secret: only in the keyring

        dialog.table.selectRow(0)
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.status.text().startswith("Test sent to 'phone': phone (ntfy): ok"), timeout=5000)
        assert rx.requests[-1].body.decode().startswith("TEST: Margin Watch can reach the channel 'phone'")
        qtbot.waitUntil(lambda: dialog.table.item(0, 4).text().startswith("ok, last sent"), timeout=2000)
        dialog.name.setText("my phone")  # renamed: the URL must be typed again, the old name's is forgotten
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        assert dialog.status.text().startswith("Not saved: channel: no url for 'my phone'")
        qtbot.keyClicks(dialog.url, rx.url("/topic-y"))
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        assert test_keyring.passwords == {(SERVICE, "my phone:url"): rx.url("/topic-y")}
        assert [i["name"] for i in json.loads(settings.value(CHANNELS_SETTING))] == ["my phone"]
        dialog.close()
        window.close()


def test_a_failing_test_shows_the_error_and_a_bad_channel_is_not_saved(qtbot, tmp_path, test_keyring):
    _, _, window, settings = window_with(qtbot, tmp_path)
    window.channels.timing = FAST
    dialog = NotificationsDialog(window.channels, window, poll_ms=20)
    qtbot.addWidget(dialog)
    dialog.kind.setCurrentText("telegram")
    qtbot.keyClicks(dialog.name, "bot")
    qtbot.keyClicks(dialog.token, "1:SECRET")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.status.text() == "Not saved: channel.chat_id: required for telegram: a chat number or '@channelname'"
    assert test_keyring.passwords == {} and json.loads(settings.value(CHANNELS_SETTING)) == []

    dialog.kind.setCurrentText("webhook")
    dialog.name.setText("ops")
    qtbot.keyClicks(dialog.url, refused_url())
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    dialog.table.selectRow(0)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    expected = "Test to 'ops' failed: connection refused (nothing listens at that address)"
    qtbot.waitUntil(lambda: dialog.status.text() == expected and dialog.testing is None, timeout=5000)
    assert dialog.table.item(0, 4).text().startswith("failing: connection refused")
    dialog.close()
    window.close()


def test_a_channel_whose_secret_is_gone_is_listed_with_the_reason(qtbot, tmp_path):
    _, _, window, _ = window_with(qtbot, tmp_path, [{"name": "ops", "type": "webhook"}])
    entries = [a.text() for a in window.menus.settings_menu.actions()]
    assert entries[0] == "Risk &thresholds…" and "&Notification channels…" in entries
    dialog = NotificationsDialog(window.channels, window)
    qtbot.addWidget(dialog)
    assert dialog.table.item(0, 4).text() == (
        "not running: channel: no url for 'ops': set the environment variable MARGINWATCH_ALERT_OPS_URL or the "
        "keyring (marginwatch-alerts, 'ops:url')"
    )
    dialog.close()
    window.close()


class RecordingTray:
    """Stands in for the system tray (offscreen has none): the desktop notifications shown."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def showMessage(self, title, text, icon, ms) -> None:
        self.messages.append(text)


def test_a_snoozed_position_shows_no_desktop_notification_but_another_position_does(qtbot, tmp_path):
    portfolio, store, window, _ = window_with(qtbot, tmp_path)
    window.tray = tray = RecordingTray()
    marks = {}
    for symbol in ("DOGE/USDT:USDT", "ETH/USDT:USDT"):
        row = next(i for i, p in enumerate(portfolio.book.positions) if p.symbol == symbol)
        marks[symbol] = window.model._rows[row].liquidation_price
    doge, eth = ("binanceusdm", "DOGE/USDT:USDT"), ("binanceusdm", "ETH/USDT:USDT")
    store.set_manual(doge, marks["DOGE/USDT:USDT"] / (1 - 0.14))
    window.refresh()
    assert [m for m in tray.messages if "DOGE" in m]  # warning: shown
    window.alert_list.setCurrentRow(0)
    window.channels.snooze_selected(3600)
    shown = len(tray.messages)
    store.set_manual(doge, marks["DOGE/USDT:USDT"] / (1 - 0.03))
    window.refresh()
    assert window.alerts[-1].new.label == "danger" and "DOGE" in window.alerts[-1].subject  # the dock lists it
    assert len(tray.messages) == shown  # but no desktop notification
    long_eth = next(p for p in portfolio.book.positions if p.symbol == "ETH/USDT:USDT")
    factor = (1 - 0.03) if long_eth.side.value == "long" else (1 + 0.03)
    store.set_manual(eth, marks["ETH/USDT:USDT"] / factor)
    window.refresh()
    assert any("ETH" in m for m in tray.messages[shown:])  # another position still notifies
    window.close()


def test_a_price_alert_reaches_the_webhook_and_a_snooze_of_it_mutes_its_next_firing(qtbot, tmp_path):
    from engine.book.price_alert_rules import Direction, PriceAlert

    eth = ("binanceusdm", "ETH/USDT:USDT")
    with AlertReceiver() as rx:
        store_secret("ops", "url", rx.url("/hook"))
        _, store, window, _ = window_with(qtbot, tmp_path, [{"name": "ops", "type": "webhook", "min_level": "danger"}])
        at_start = len(rx.wait_for(len([a for a in window.alerts if a.new.label == "danger"])))
        window.session.book_alerts.policy.repeat_after = 0.0  # every firing a new alert: the snooze alone mutes
        window.price_alerts.apply([PriceAlert(*eth, Direction.BELOW, 3_000.0)])
        store.set_manual(eth, 2_990.0)
        window.refresh()
        price = rx.wait_for(at_start + 1)[-1].json()
        assert (price["kind"], price["symbol"], price["direction"], price["price"], price["mark"]) == (
            "price", "ETH/USDT:USDT", "below", 3_000.0, 2_990.0
        )  # fmt: skip
        window.alert_list.setCurrentRow(0)  # the newest: the price alert
        window.channels.snooze_selected(3600)
        assert "ETH/USDT:USDT on binanceusdm: nothing sent" in window.statusBar().currentMessage()
        for mark in (3_100.0, 2_980.0):  # re-armed, fired again: listed in the dock, not sent
            store.set_manual(eth, mark)
            window.refresh()
        assert [a.kind for a in window.alerts[-2:]] == ["price", "price"]
        window.close()
        assert len(rx.requests) == at_start + 1
