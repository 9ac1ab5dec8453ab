"""The desktop entry and AppStream metainfo pass the freedesktop validators."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
APP_ID = "io.github.runpod_job_console"


@pytest.mark.skipif(
    shutil.which("desktop-file-validate") is None, reason="desktop-file-utils absent"
)
def test_desktop_entry_is_valid() -> None:
    result = subprocess.run(
        ["desktop-file-validate", str(RESOURCES / f"{APP_ID}.desktop")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout  # not even a hint


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstream absent")
def test_metainfo_is_valid() -> None:
    result = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(RESOURCES / f"{APP_ID}.metainfo.xml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_icon_in_every_size_the_desktop_entry_names() -> None:
    entry = (RESOURCES / f"{APP_ID}.desktop").read_text()
    assert f"Icon={APP_ID}" in entry
    assert (RESOURCES / "icons" / f"{APP_ID}.svg").is_file()
    for size in (16, 32, 48, 64, 128, 256):
        png = RESOURCES / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        header = png.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        width = int.from_bytes(header[16:20], "big")
        assert width == size, f"{png} is {width} px wide"
