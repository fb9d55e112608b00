"""Text from a book (account names, symbols, notes) made safe to print on a terminal or in a message.

A name is user input: a portfolio file, a CSV cell or a saved book can hold an escape sequence that
re-titles the terminal, hides lines or moves the cursor when printed raw, or a lone surrogate that
cannot be encoded at all (print raises). printable() is the one helper the text reports and the error
messages use; the book keeps the text as it was typed.
"""

from __future__ import annotations

import re

# C0 controls (tab and newline included: a name is one line), DEL, C1 controls (ESC's 8-bit twin
# CSI is \x9b), lone surrogates, and the bidirectional overrides that reorder what is shown.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """text with every control character, lone surrogate and bidi override written as an escape
    ('\\x1b', '\\ud800'): safe to print, and still says what was there. Other text is left as it is."""
    return _UNSAFE.sub(_escape, text)
