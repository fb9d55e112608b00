"""Entry point of the frozen build: PyInstaller runs this file as __main__ (see marginwatch.spec)."""

import sys

from desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
