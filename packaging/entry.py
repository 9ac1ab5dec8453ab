"""PyInstaller entry script: the bundle runs the same ``main`` as the installed command."""

import sys

from gui.cli import main

if __name__ == "__main__":
    sys.exit(main())
