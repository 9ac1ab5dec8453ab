"""PySide6's per-import source scan, and the look at a module's globals that replaces it.

Once ``PySide6.QtCore`` is imported, PySide6 reads the source of every module imported after it
(``inspect.getsource``) to decide whether the module uses PySide6; ``runtime.quiet_feature_scan``
(a private name patched: the last resort, see ``gui.ui.runtime``) answers the same question from
what the module imported, so start-up reads no source files and never touches half-imported
modules. The first test shows the scan still happens without the patch: when it fails, a PySide6
release dropped the scan and the patch can go.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from gui.ui import runtime
from gui.ui.runtime import uses_pyside


def test_without_the_patch_pyside_reads_the_source_of_each_module_imported_after_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "scan_probe_plain.py").write_text("VALUE = 1\n", encoding="utf-8")
    script = textwrap.dedent(
        f"""
        import inspect, sys
        sys.path.insert(0, {str(tmp_path)!r})
        import PySide6.QtCore  # installs PySide6's import hook; gui.ui.runtime is not imported
        read = []
        real_getsource = inspect.getsource
        def counting_getsource(obj):
            read.append(getattr(obj, "__name__", obj))
            return real_getsource(obj)
        inspect.getsource = counting_getsource
        import scan_probe_plain
        feature = sys.modules["shibokensupport.feature"]
        print(read.count("scan_probe_plain"), callable(getattr(feature, "_mod_uses_pyside", None)))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "True"]  # its source was read; the private scan exists
    import PySide6

    version = tuple(PySide6.__version_info__[:2])
    assert runtime.SCAN_CHECKED[0] <= version < runtime.SCAN_CHECKED[1]  # and we patch it here


def _import_fresh(folder: Path, name: str, source: str) -> ModuleType:
    (folder / f"{name}.py").write_text(source, encoding="utf-8")
    sys.modules.pop(name, None)
    # The statement form: PySide6's hook wraps builtins.__import__, which importlib bypasses.
    exec(f"import {name}", {})
    return sys.modules[name]


def test_modules_imported_after_pyside_are_classified_without_reading_their_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runtime.set_up_pyside()  # this PySide6 has the scan, and it is ours now
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


def test_a_pyside_version_not_checked_keeps_its_own_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    feature = sys.modules["shibokensupport.feature"]

    def theirs(module: ModuleType) -> bool:
        return False

    monkeypatch.setattr(feature, "_mod_uses_pyside", theirs)
    monkeypatch.setattr(runtime, "SCAN_CHECKED", ((5, 0), (6, 0)))
    assert not runtime.quiet_feature_scan()
    assert feature._mod_uses_pyside is theirs


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
