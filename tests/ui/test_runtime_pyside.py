"""PySide6's per-import source scan is replaced by a look at the module's globals (gui.ui).

PySide6 reads the source of every module imported after it (``inspect.getsource``) to decide
whether the module uses PySide6; ``gui.ui.quiet_feature_scan`` answers the same question from what
the module imported, so start-up reads no source files and never touches half-imported modules.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from types import ModuleType

import pytest

import gui.ui
from gui.ui import uses_pyside


def _import_fresh(folder: Path, name: str, source: str) -> ModuleType:
    (folder / f"{name}.py").write_text(source, encoding="utf-8")
    sys.modules.pop(name, None)
    # The statement form: PySide6's hook wraps builtins.__import__, which importlib bypasses.
    exec(f"import {name}", {})
    return sys.modules[name]


def test_modules_imported_after_pyside_are_classified_without_reading_their_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert gui.ui.quiet_feature_scan()  # this PySide6 has the scan, and it is ours now
    feature = sys.modules["shibokensupport.feature"]
    monkeypatch.syspath_prepend(str(tmp_path))
    read: list[object] = []
    real_getsource = inspect.getsource

    def counting_getsource(obj: object) -> str:
        read.append(obj)
        return real_getsource(obj)  # type: ignore[arg-type]

    monkeypatch.setattr(inspect, "getsource", counting_getsource)

    qt_user = _import_fresh(tmp_path, "scan_probe_qt", "from PySide6.QtCore import QObject\n")
    plain = _import_fresh(tmp_path, "scan_probe_plain", "import json\nVALUE = json.dumps(1)\n")

    assert read == []
    assert feature.pyside_feature_dict["scan_probe_qt"] == 0  # uses PySide6
    assert feature.pyside_feature_dict["scan_probe_plain"] == -1  # ignored by feature switching
    assert uses_pyside(qt_user) and not uses_pyside(plain)


def test_uses_pyside_looks_at_imported_modules_and_classes_only() -> None:
    import PySide6.QtCore

    module = ModuleType("probe")
    module.text = "PySide6"  # a string naming it is not a use
    assert not uses_pyside(module)
    module.QtCore = PySide6.QtCore
    assert uses_pyside(module)
    del module.QtCore
    module.Timer = PySide6.QtCore.QTimer
    assert uses_pyside(module)
