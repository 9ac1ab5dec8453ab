"""The job details' modules are imported ahead, while the window is idle, one a turn of the event
loop, so that the first job shown does not stop the window for their imports (issue 17,
``tests/benchmarks/bench_ui.py``). Run in a fresh interpreter: this test process has imported
them all long ago."""

from __future__ import annotations

import json
import subprocess
import sys

from gui.ui.jobs.details.pane import PREPARE_MODULES

# What the first job shown needs: the details view and the cost words of its summary.
NEEDED = ["gui.ui.jobs.details.view", "gui.core.account.cost"]

_START = """
import json, os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
from gui.ui import runtime
from gui.ui.jobs.details import pane as pane_module
pane_module.PREPARE_AFTER_MS = 0
pane = pane_module.DetailsPane()
found = {}
def imported(names):
    return [n for n in names if n in sys.modules]
"""

_IDLE = """
found["before"] = imported(NEEDED)
pane.show()
until = time.monotonic() + 20
while len(imported(NEEDED)) < len(NEEDED) and time.monotonic() < until:
    app.processEvents()
    time.sleep(0.005)
found["idle"] = imported(NEEDED)
found["built"] = pane.findChild(QWidget, "jobDetailsView") is not None
"""

_TURNS = """
pane.show()
runtime.START.close()  # the window has not painted yet
pane._prepare_next()
found["before_start"] = imported(pane_module.PREPARE_MODULES)
runtime.START.open()
pane._prepare_next()
found["one_turn"] = imported(pane_module.PREPARE_MODULES)
"""


def _probe(steps: str) -> dict[str, object]:
    script = f"{_START}\nNEEDED = {NEEDED!r}\n{steps}\nprint(json.dumps(found))\n"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_the_details_modules_are_imported_while_the_window_is_idle() -> None:
    found = _probe(_IDLE)
    assert found["before"] == []  # a pane alone imports none of them
    assert found["idle"] == NEEDED  # shown, then idle: imported before any job is shown
    assert found["built"] is False  # the details themselves wait for the first job shown


def test_the_details_modules_are_imported_one_a_turn_after_the_windows_start() -> None:
    found = _probe(_TURNS)
    assert found["before_start"] == []
    assert found["one_turn"] == [PREPARE_MODULES[0]]
