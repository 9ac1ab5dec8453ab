"""Can the window start here? Checked before PySide6 is imported, so that a missing system library
or a missing display gets a message that says what to do, instead of Qt's abort (exit 134).

On Linux, PySide6's wheels bring Qt but not the system libraries Qt links to. Without one of them,
``import PySide6.QtWidgets`` fails with an ``ImportError`` traceback (Qt's own libraries), or Qt
cannot load its X11 platform plugin and aborts, naming a library that may well be installed
(``xcb-cursor0``) and not the one that is missing. The lists below are what ``readelf -d`` gives as
NEEDED for PySide6 6.11's ``libQt6Gui``/``libQt6Core``/``libQt6DBus``, its ``offscreen`` plugin,
and its ``xcb`` plugin with ``libQt6XcbQpa`` (less the C and C++ runtimes), each with the Debian
and Ubuntu package that holds it; README.md's apt-get line names the same packages (a test keeps
them equal).

Pure standard library and no Qt: ``gui.cli`` runs ``window_problem`` on every start of the window,
where it costs about 0.2 ms (``loader_finder``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping

__all__ = [
    "QT_LIBRARIES",
    "SYSTEM_PACKAGES",
    "XCB_LIBRARIES",
    "loader_finder",
    "missing_libraries",
    "window_problem",
]

# (soname, Debian/Ubuntu package). Qt's core and GUI libraries, needed on every platform.
QT_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("libEGL.so.1", "libegl1"),
    ("libGL.so.1", "libgl1"),
    ("libfontconfig.so.1", "libfontconfig1"),
    ("libfreetype.so.6", "libfreetype6"),
    ("libxkbcommon.so.0", "libxkbcommon0"),
    ("libglib-2.0.so.0", "libglib2.0-0"),
    ("libgthread-2.0.so.0", "libglib2.0-0"),
    ("libX11.so.6", "libx11-6"),
    ("libdbus-1.so.3", "libdbus-1-3"),
)

# What the xcb (X11) platform plugin needs besides.
XCB_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("libxcb.so.1", "libxcb1"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-image.so.0", "libxcb-image0"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-randr.so.0", "libxcb-randr0"),
    ("libxcb-render.so.0", "libxcb-render0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxcb-shape.so.0", "libxcb-shape0"),
    ("libxcb-shm.so.0", "libxcb-shm0"),
    ("libxcb-sync.so.1", "libxcb-sync1"),
    ("libxcb-util.so.1", "libxcb-util1"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0"),
    ("libxcb-xkb.so.1", "libxcb-xkb1"),
)

# Every package the window needs on Debian or Ubuntu, in the order README.md names them.
SYSTEM_PACKAGES: tuple[str, ...] = tuple(
    dict.fromkeys(package for _, package in QT_LIBRARIES + XCB_LIBRARIES)
)

# Says whether the dynamic loader finds a library by its soname.
LibraryFinder = Callable[[str], bool]

# Where glibc's loader looks up a library that no LD_LIBRARY_PATH folder holds (``ldconfig -p``
# prints it).
LD_SO_CACHE = "/etc/ld.so.cache"

_NO_DISPLAY_HELP = (
    "Run it in a desktop session, on a virtual X server (xvfb-run -a job-console), or without "
    "a window: QT_QPA_PLATFORM=offscreen job-console --smoke checks the app, and the command-line "
    "verbs (job-console --help) never need a display."
)


def loader_finder(environ: Mapping[str, str], cache: str = LD_SO_CACHE) -> LibraryFinder:
    """Finds a library where the dynamic loader would: in ``LD_LIBRARY_PATH``'s folders, then in
    the loader's cache. Without a readable cache (musl, NixOS) it cannot tell, and finds all.

    Looked up, not loaded: reading the cache and searching it for each name takes ~0.2 ms, where
    loading the libraries (``dlopen``, with ``_ctypes``' import) took 1.6 ms, and ``ctypes``'
    own ``find_library`` runs ``ldconfig -p`` in a child process.
    """
    folders = [f for f in environ.get("LD_LIBRARY_PATH", "").split(":") if f]
    try:
        with open(cache, "rb") as file:
            listing = file.read()
    except OSError:
        return lambda soname: True

    def finds(soname: str) -> bool:
        # The cache's string table holds each library's full path, NUL-terminated.
        if f"/{soname}\0".encode() in listing:
            return True
        return any(os.path.isfile(os.path.join(folder, soname)) for folder in folders)

    return finds


def missing_libraries(
    libraries: tuple[tuple[str, str], ...], finds: LibraryFinder
) -> list[tuple[str, str]]:
    """The (soname, package) pairs of ``libraries`` that ``finds`` does not find."""
    return [(soname, package) for soname, package in libraries if not finds(soname)]


def _forced_platform(environ: Mapping[str, str]) -> str:
    """The platform plugin Qt is told to use (``QT_QPA_PLATFORM``, first choice), or ""."""
    value = environ.get("QT_QPA_PLATFORM", "").strip()
    return value.split(";", 1)[0].split(":", 1)[0].strip().lower()


def _looks_like_wayland(environ: Mapping[str, str]) -> bool:
    return bool(environ.get("WAYLAND_DISPLAY")) or environ.get("XDG_SESSION_TYPE") == "wayland"


def window_problem(
    environ: Mapping[str, str] | None = None,
    *,
    platform: str | None = None,
    finds: LibraryFinder | None = None,
) -> str | None:
    """Why Qt's window cannot start here, in words that say what to do; None when it can.

    Linux only (elsewhere Qt brings what it needs). Qt's own libraries are checked on every
    platform plugin; the X11 ones when Qt will use X11: ``QT_QPA_PLATFORM`` is ``xcb``, or it is
    unset in a session that is not Wayland's. With neither ``DISPLAY`` nor ``WAYLAND_DISPLAY``
    and no platform forced, there is no screen to open the window on. A bundled app (PyInstaller)
    carries its libraries where this check does not look, so it is not checked.
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux") or getattr(sys, "frozen", False):
        return None
    forced = _forced_platform(environ)
    on_x11 = forced == "xcb" or (not forced and not _looks_like_wayland(environ))
    libraries = QT_LIBRARIES + XCB_LIBRARIES if on_x11 else QT_LIBRARIES
    finder = loader_finder(environ) if finds is None else finds
    missing = missing_libraries(libraries, finder)
    if missing:
        return _missing_message(missing)
    if on_x11 and not environ.get("DISPLAY"):
        return (
            "job-console: the window cannot open: there is no display (the DISPLAY variable is "
            "not set, as over ssh, in a container or in CI).\n" + _NO_DISPLAY_HELP
        )
    return None


def _missing_message(missing: list[tuple[str, str]]) -> str:
    names = ", ".join(soname for soname, _ in missing)
    packages = " ".join(dict.fromkeys(package for _, package in missing))
    what = "Qt's X11 support (xcb)" if set(missing) & set(XCB_LIBRARIES) else "Qt"
    count = "a system library" if len(missing) == 1 else f"{len(missing)} system libraries"
    verb = "is" if len(missing) == 1 else "are"
    return (
        f"job-console: the window cannot open: {what} needs {count} that {verb} not installed: "
        f"{names}.\n"
        f"On Debian or Ubuntu, install {'it' if len(missing) == 1 else 'them'} with:\n"
        f"    sudo apt-get install {packages}\n"
        "README.md names every package the window needs. The command-line verbs "
        "(job-console --help) need none of them."
    )
