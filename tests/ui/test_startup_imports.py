"""Start-up stays lazy: importing the window's module pulls in no slow library.

The HTTP stack (httpx, aiohttp), pydantic and keyring are imported where they are used (the engine
thread, the validation worker, the first keyring access), so the window shows without waiting for
them (issue 8, ``tests/benchmarks/bench_startup.py``). Run in a fresh interpreter: this test
process has imported them all long ago.
"""

from __future__ import annotations

import subprocess
import sys

SLOW_MODULES = (
    "aiohttp",
    "httpx",
    "pydantic",
    "keyring",
    "rich",
    "gui.sandbox",
    "gui.core.engine.jobs",
    # Imported by the engine's thread, the first big text, the first local worker, the first
    # Help dialog: each would lengthen the window's start by 4-20 ms.
    "asyncio",
    "multiprocessing",
    "PySide6.QtNetwork",
    "gui.ui.window.help_dialogs",
    # Opened or shown later: the deliveries' store (SQLite, OpenSSL's hashlib) on the engine's
    # thread, the job details with the first job shown, export and snippets on first use, the
    # listener's settings dialog, the
    # options form with its tab: together ~25 ms of the window's start.
    "sqlite3",
    "hashlib",
    "gui.core.webhooks.deliveries",
    "gui.ui.jobs.details.view",
    "gui.core.storage.export",
    "gui.core.storage.snippets",
    "gui.ui.webhooks.settings",
    "gui.ui.request.options_form",
    "gui.ui.request.text.splice",
    "gui.ui.request.template_dialog",
)


def imported_after(statement: str) -> set[str]:
    """The SLOW_MODULES a fresh interpreter holds after running ``statement``."""
    probe = (
        f"import sys\n{statement}\nprint(' '.join(m for m in {SLOW_MODULES!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    return set(done.stdout.split())


def test_importing_the_app_imports_no_slow_library() -> None:
    assert imported_after("import gui.app") == set()


def test_the_probe_sees_slow_libraries_when_they_are_imported() -> None:
    # The check above can fail: the same probe reports what a real import brings in.
    assert imported_after("import gui.core.engine.jobs, gui.core.request.rules") >= {
        "aiohttp",
        "httpx",
        "pydantic",
        "gui.core.engine.jobs",
        "asyncio",
    }
