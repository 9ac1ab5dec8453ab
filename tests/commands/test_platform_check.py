"""The window's start says what to install or do when Qt could not start, before Qt aborts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import gui.app
import gui.platform_check as platform_check
from gui.cli import WINDOW_CANNOT_START, main
from gui.platform_check import (
    SYSTEM_PACKAGES,
    XCB_LIBRARIES,
    loader_finder,
    window_problem,
)

README = Path(__file__).resolve().parents[2] / "README.md"
X11 = {"DISPLAY": ":0"}


def lacking(*sonames: str) -> platform_check.LibraryFinder:
    return lambda soname: soname not in sonames


def test_a_missing_xcb_library_is_named_with_the_command_that_installs_it() -> None:
    problem = window_problem(X11, platform="linux", finds=lacking("libxcb-icccm.so.4"))
    assert problem is not None
    assert "libxcb-icccm.so.4" in problem
    assert "sudo apt-get install libxcb-icccm4\n" in problem
    assert "libxcb-keysyms" not in problem  # only what is missing


def test_every_missing_library_is_named_at_once() -> None:
    problem = window_problem(
        X11, platform="linux", finds=lacking("libxcb-icccm.so.4", "libxcb-keysyms.so.1")
    )
    assert problem is not None
    assert "2 system libraries" in problem
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1\n" in problem


def test_nothing_is_said_when_everything_is_there() -> None:
    assert window_problem(X11, platform="linux", finds=lambda soname: True) is None


@pytest.mark.parametrize(
    "environ",
    [
        {"QT_QPA_PLATFORM": "offscreen"},
        {"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"},
        {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"},
        {"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"},
    ],
)
def test_x11_libraries_are_not_asked_for_where_qt_will_not_use_x11(environ: dict[str, str]) -> None:
    assert window_problem(environ, platform="linux", finds=lacking("libxcb-icccm.so.4")) is None


def test_a_forced_xcb_platform_is_checked_even_in_a_wayland_session() -> None:
    environ = {"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}
    problem = window_problem(environ, platform="linux", finds=lacking("libxcb-cursor.so.0"))
    assert problem is not None and "libxcb-cursor0" in problem


def test_qts_own_libraries_are_checked_on_every_platform() -> None:
    environ = {"QT_QPA_PLATFORM": "offscreen"}
    problem = window_problem(environ, platform="linux", finds=lacking("libEGL.so.1"))
    assert problem is not None
    assert "Qt needs a system library" in problem and "sudo apt-get install libegl1\n" in problem


def test_no_display_is_said_plainly() -> None:
    problem = window_problem({}, platform="linux", finds=lambda soname: True)
    assert problem is not None
    assert "there is no display" in problem and "DISPLAY" in problem
    assert "QT_QPA_PLATFORM=offscreen" in problem and "xvfb-run" in problem


def test_other_systems_are_not_checked() -> None:
    assert window_problem({}, platform="darwin", finds=lambda soname: False) is None
    assert window_problem({}, platform="win32", finds=lambda soname: False) is None


def test_the_finder_reads_the_loaders_cache_and_ld_library_path(tmp_path: Path) -> None:
    cache = tmp_path / "ld.so.cache"
    cache.write_bytes(b"glibc-ld.so.cache1.1\0libEGL.so.1\0/usr/lib/x86_64-linux-gnu/libEGL.so.1\0")
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "libxcb-icccm.so.4").write_bytes(b"")
    finds = loader_finder({"LD_LIBRARY_PATH": f"/nowhere:{folder}"}, cache=str(cache))
    assert finds("libEGL.so.1")
    assert not finds("libGL.so.1")  # a name inside another's is not that library
    assert finds("libxcb-icccm.so.4")
    assert not finds("libxcb-keysyms.so.1")


def test_without_the_loaders_cache_the_finder_cannot_tell_and_finds_all(tmp_path: Path) -> None:
    finds = loader_finder({}, cache=str(tmp_path / "absent"))
    assert finds("libxcb-icccm.so.4")


@pytest.mark.skipif(not os.path.exists("/etc/ld.so.cache"), reason="no glibc loader cache here")
def test_the_finder_finds_this_machines_libraries() -> None:
    finds = loader_finder({})
    assert finds("libc.so.6")
    assert not finds("libjob-console-absent.so.1")


def test_the_window_start_stops_with_the_message_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(
        platform_check, "loader_finder", lambda environ: lacking("libxcb-keysyms.so.1")
    )
    monkeypatch.setattr(sys, "platform", "linux")

    def no_window(args: object) -> int:
        raise AssertionError("the window was started")

    monkeypatch.setattr(gui.app, "run_app", no_window)
    assert main([]) == WINDOW_CANNOT_START == 1
    err = capsys.readouterr().err
    assert "libxcb-keysyms.so.1" in err and "sudo apt-get install libxcb-keysyms1" in err


def test_python_m_gui_without_a_display_says_so_instead_of_aborting(tmp_path: Path) -> None:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE")
    }
    env["JOB_CONSOLE_HOME"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-m", "gui"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == WINDOW_CANNOT_START, done.stderr  # Qt's abort is 134
    assert "there is no display" in done.stderr
    assert "qt.qpa" not in done.stderr and "Aborted" not in done.stderr


def test_readme_installs_every_package_the_check_knows() -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- system-packages -->\n```sh\n(.*?)\n```", text, re.S)
    assert block is not None
    words = block.group(1).split()
    assert words[:3] == ["sudo", "apt-get", "install"]
    assert set(words[3:]) == {"python3-venv", *SYSTEM_PACKAGES}
    # Next to the first command, which still reads as it did.
    assert text.index("<!-- /system-packages -->") < text.index("<!-- app-command -->")
    assert "libxcb-icccm4" in SYSTEM_PACKAGES and ("libxcb-keysyms.so.1", "libxcb-keysyms1") in (
        XCB_LIBRARIES
    )
