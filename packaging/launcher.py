"""Entry point of the frozen build: PyInstaller runs this file as __main__ (see marginwatch.spec)."""

import multiprocessing
import sys

from desktop.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # the probability worker's child process starts as this executable
    sys.exit(main())
