"""The bar above the tables that says the view is a preview: a price shock, hypothetical positions shown.

It cannot be missed and does not depend on any dock: hiding the Prices dock leaves a shock on screen
here, with one click to end it. Alerts are never previewed (they follow the real book), which the
bar says too.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from engine.market.prices import Shock

SHOCK_STYLE = "background: #a84300; color: white; font-weight: bold; padding: 4px 8px;"
HYPOTHETICAL_STYLE = "background: #6c3483; color: white; padding: 3px 8px;"


def signed_percent(fraction: float) -> str:
    """-0.16 -> '−16%', 0.025 -> '+2.5%' (a true minus sign, one decimal only when it says something)."""
    text = f"{abs(fraction) * 100:.2f}".rstrip("0").rstrip(".")
    return ("−" if fraction < 0 else "+") + text + "%"


def describe_shock(shock: Shock) -> str:
    """'all marks −16%', 'BTC/USDT:USDT on binanceusdm +5%', 'all marks −10%, ETH/USDT:USDT on bybit −5%'."""
    parts = [f"all marks {signed_percent(shock.all_symbols)}"] if shock.all_symbols else []
    parts += [f"{symbol} on {exchange} {signed_percent(v)}" for (exchange, symbol), v in shock.per_key.items() if v]
    return ", ".join(parts) or "no move"


class PreviewBanner(QWidget):
    """One coloured line per preview layer, each with the button that ends it; hidden when none is on."""

    end_shock = Signal()
    leave_out_hypothetical = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shock_bar, self.shock_label, self.end_button = self._bar(SHOCK_STYLE, "End preview", "shock-preview")
        self.end_button.clicked.connect(self.end_shock)
        self.hypothetical_bar, self.hypothetical_label, self.leave_out_button = self._bar(
            HYPOTHETICAL_STYLE, "Leave them out", "hypothetical-preview"
        )
        self.leave_out_button.clicked.connect(self.leave_out_hypothetical)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.shock_bar)
        layout.addWidget(self.hypothetical_bar)
        self.show_preview(None, 0)

    def _bar(self, style: str, button_text: str, name: str) -> tuple[QFrame, QLabel, QPushButton]:
        bar = QFrame()
        bar.setObjectName(name)
        bar.setStyleSheet(f"QFrame#{name} {{ {style} }} QLabel {{ {style} }}")
        label = QLabel()
        label.setWordWrap(True)
        button = QPushButton(button_text)
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 4, 0)
        row.addWidget(label, 1)
        row.addWidget(button)
        return bar, label, button

    def show_preview(self, shock: Shock | None, hypothetical: int) -> None:
        """Show the bars of the layers that are on: the shock (None: none), `hypothetical` positions shown."""
        if shock is not None:
            self.shock_label.setText(
                f"Shock preview: {describe_shock(shock)}: figures and colours are hypothetical. "
                "Alerts still follow the real prices."
            )
        self.shock_bar.setVisible(shock is not None)
        if hypothetical:
            noun = "position" if hypothetical == 1 else "positions"
            self.hypothetical_label.setText(
                f"What-if: {hypothetical} hypothetical {noun} shown; rows and accounts marked “what-if” are "
                "not the real book. Alerts follow the real book only."
            )
        self.hypothetical_bar.setVisible(hypothetical > 0)
        self.setVisible(shock is not None or hypothetical > 0)

    def text(self) -> str:
        """What the bar says (the visible lines), for the status of a test or a screen reader."""
        return "\n".join(
            label.text()
            for bar, label in ((self.shock_bar, self.shock_label), (self.hypothetical_bar, self.hypothetical_label))
            if not bar.isHidden()
        )
