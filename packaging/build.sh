#!/usr/bin/env bash
# Build the self-contained one-folder app: dist/marginwatch/marginwatch (Linux; see packaging/README.md).
#
#   bash packaging/build.sh
#
# The project is installed (not editable, as a user gets it) with PyInstaller into a build venv,
# build/venv by default (MARGINWATCH_BUILD_VENV to choose another, PYTHON for the interpreter that
# creates it); PyInstaller works in build/pyinstaller. build/ and dist/ are git-ignored.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${MARGINWATCH_BUILD_VENV:-build/venv}"
PYINSTALLER_SPEC="pyinstaller>=6.10,<7"

if [ ! -x "$VENV/bin/python" ]; then
    echo "build.sh: creating the build venv $VENV"
    "$PYTHON" -m venv "$VENV"
fi
# pip rebuilds and reinstalls a local project every time, so the build venv follows the sources.
"$VENV/bin/pip" install --quiet . "$PYINSTALLER_SPEC"

"$VENV/bin/pyinstaller" --noconfirm --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/marginwatch.spec

echo "build.sh: built dist/marginwatch/marginwatch, $(du -sh dist/marginwatch | cut -f1) ($(du -s --apparent-size -B1 dist/marginwatch | cut -f1) bytes)"
