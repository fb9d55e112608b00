"""The environment that makes a child process import another checkout whole: its packages and its resources.

PYTHONPATH=tree alone is not enough: the editable install maps the `marginwatch_resources` package to this
checkout's resources/ through its import finder, so an older checkout measured with --compare would read this
checkout's demo book and tier tables (and may refuse their newer fields). A small folder holding a link named
`marginwatch_resources` to the tree's resources/ goes first on the path.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def checkout_env(tree: Path, **extra: str) -> dict[str, str]:
    """os.environ with PYTHONPATH set to import `tree`'s packages and resources (and `extra` set)."""
    shim = Path(tempfile.gettempdir()) / f"marginwatch-resources-{abs(hash(str(tree.resolve())))}"
    shim.mkdir(exist_ok=True)
    link = shim / "marginwatch_resources"
    if not link.exists():
        link.symlink_to(tree.resolve() / "resources", target_is_directory=True)
    return dict(os.environ, PYTHONPATH=os.pathsep.join((str(shim), str(tree))), **extra)
