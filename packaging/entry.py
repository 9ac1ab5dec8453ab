"""PyInstaller entry script: the bundle runs the same ``main`` as the installed command.

The window's engine process is this executable again with the hidden ``engine`` verb
(``RemoteEngine`` starts ``<bundle>/job-console engine --data-dir D`` when frozen); ``main``
dispatches it like any verb."""

import multiprocessing
import sys

from gui.cli import main

if __name__ == "__main__":
    # The editor validates big texts in a child process ("spawn"): in a bundle that child is this
    # executable again, and freeze_support() makes it run the child's work instead of the app.
    multiprocessing.freeze_support()
    sys.exit(main())
