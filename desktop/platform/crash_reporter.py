"""Uncaught exceptions, from any thread: logged to a file, shown in a dialog, never lost.

`sys.excepthook` catches the GUI thread's (Qt calls it for exceptions escaping slots) and
`threading.excepthook` every other thread's. The dialog is raised on the GUI thread through a queued
signal, so a feed thread that fails never touches a widget. Feed threads keep their own loops alive:
a failure in one tick's handling is theirs to retry, and this hook only records what escaped.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger("marginwatch")
MAX_DIALOGS = 3
"""At most this many dialogs are open at once: an exception in a timer must not bury the screen."""


class CrashReporter(QObject):
    caught = Signal(str, str)  # summary, traceback text

    def __init__(self, log_file: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.log_file = log_file
        self.parent_widget = parent
        self.open_dialogs = 0
        self.reports: list[str] = []
        if log_file is not None and not any(
            isinstance(h, logging.FileHandler) and Path(h.baseFilename) == log_file for h in log.handlers
        ):
            try:
                log_file.parent.mkdir(parents=True, exist_ok=True)
                handler = logging.FileHandler(log_file, encoding="utf-8", delay=True)  # no empty log file
                handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(message)s"))
                log.addHandler(handler)
            except OSError:
                self.log_file = None  # a read-only data folder: the dialog still shows the traceback
        log.setLevel(logging.INFO)
        self.caught.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self._previous = (sys.excepthook, threading.excepthook)

    def install(self) -> None:
        sys.excepthook = self._excepthook
        threading.excepthook = self._thread_excepthook

    def uninstall(self) -> None:
        sys.excepthook, threading.excepthook = self._previous

    def _excepthook(self, kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        self.report(kind, value, tb, threading.current_thread().name)

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "a background thread"
        self.report(args.exc_type, args.exc_value, args.exc_traceback, name)

    def report(
        self, kind: type[BaseException], value: BaseException | None, tb: TracebackType | None, thread: str
    ) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        summary = f"{kind.__name__} in {thread}: {value}"
        log.error("uncaught exception in %s\n%s", thread, text)
        self.reports.append(summary)
        self.caught.emit(summary, text)

    @Slot(str, str)
    def _show(self, summary: str, text: str) -> None:
        if self.open_dialogs >= MAX_DIALOGS:
            return
        box = QMessageBox(
            QMessageBox.Icon.Critical, "Margin Watch: unexpected error", summary, parent=self.parent_widget
        )
        where = f"It was written to {self.log_file}." if self.log_file else "It could not be written to a log file."
        box.setInformativeText(
            f"Margin Watch keeps running, and the price feeds are not stopped. {where} "
            "Please report it with the details below."
        )
        box.setDetailedText(text)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._closed)
        self.open_dialogs += 1
        box.open()

    @Slot()
    def _closed(self) -> None:
        self.open_dialogs -= 1
