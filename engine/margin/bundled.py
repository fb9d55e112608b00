"""Access to the bundled data shipped in resources/ (installed as marginwatch_resources)."""

from __future__ import annotations

import json
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any


def resource(*parts: str) -> Traversable:
    """The shipped file or folder at resources/<parts...>; it may not exist (reading it then raises
    FileNotFoundError)."""
    node = files("marginwatch_resources")
    for part in parts:
        node = node / part
    return node


def load_json(*parts: str) -> Any:
    """The parsed JSON of a shipped file. Raises FileNotFoundError, or json.JSONDecodeError (a ValueError)."""
    return json.loads(resource(*parts).read_text(encoding="utf-8"))
