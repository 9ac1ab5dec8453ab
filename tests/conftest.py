"""Every test runs isolated: offscreen Qt, a temporary data folder, an in-memory keyring."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything can import Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring
from hypothesis import HealthCheck, settings

from gui.ui import runtime
from tests.support.memory_keyring import MemoryKeyring

# What the window's process has from gui.ui.runtime.install() (not its start-up phase: the collector
# is left alone): PySide6's quiet import scan.
runtime.set_up_pyside()

# Property tests check what the code does, never how fast: on a shared, loaded machine Hypothesis'
# own timing checks (a 200 ms deadline per example, "input generation too slow") failed tests
# whose properties held (test_tracker, under a parallel load).
settings.register_profile(
    "shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("shared-machine")


@pytest.fixture(autouse=True)
def isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A fresh data folder, config folder and keyring for every test; no real user state."""
    home = tmp_path_factory.mktemp("job-console-home")
    monkeypatch.setenv("JOB_CONSOLE_HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    monkeypatch.delenv("RUNPOD_API_KEY", raising=False)
    # Subprocesses started by tests must not reach a real keyring either.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        yield home
    finally:
        keyring.set_keyring(previous)
        # The window's bridge freezes what lives to each flush (gui.ui.bridge); one test's
        # frozen objects must not outlive it out of the collector's sight.
        gc.unfreeze()


@pytest.fixture
def data_dir(isolated_environment: Path) -> Path:
    """The temporary data folder of this test (also in ``JOB_CONSOLE_HOME``)."""
    return isolated_environment


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    backend = keyring.get_keyring()
    assert isinstance(backend, MemoryKeyring)
    return backend
