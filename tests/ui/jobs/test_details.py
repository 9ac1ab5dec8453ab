"""jobDetails: output tree, raw text and images prepared off the Qt thread; errors and history."""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gui.core.records import JobState
from gui.sandbox.simulate import png_bytes
from gui.ui.jobs.details import view as job_details
from gui.ui.jobs.details.view import JobDetails
from tests.support.jobs_factory import evolve, make_record

TRACEBACK = 'Traceback (most recent call last):\n  File "handler.py", line 3\nValueError: bad seed'


@pytest.fixture
def details(qtbot: QtBot) -> JobDetails:
    widget = JobDetails()
    qtbot.addWidget(widget)
    widget.resize(800, 500)
    widget.show()
    return widget


def test_output_is_prepared_off_the_qt_thread(
    qtbot: QtBot, details: JobDetails, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    original = job_details.prepare_output

    def spy(value: object) -> job_details.PreparedOutput:
        threads.append(threading.current_thread().name)
        return original(value)

    monkeypatch.setattr(job_details, "prepare_output", spy)
    # About 20 MB of output: a list of long strings, as a batch job might return.
    output = {"rows": ["r" * 1000 + str(i) for i in range(20_000)], "done": True}
    details.show_record(make_record("big", JobState.COMPLETED, output=output))
    # show_record came back before anything was serialized; the tree shows the top level only.
    assert details.raw_view.toPlainText() == ""
    tree = details.output_tree.model
    assert tree.rowCount(tree.index(0, 0)) == 2
    qtbot.waitUntil(lambda: details.raw_view.toPlainText() != "", timeout=20_000)
    assert threads and threads[0] != threading.main_thread().name
    assert "Showing the first" in details.raw_note.text()  # the Raw view is cut, Save has it all


def test_a_long_string_cut_in_a_whole_output_is_not_called_a_larger_output(
    qtbot: QtBot, details: JobDetails
) -> None:
    # An image job's answer: three keys, one of them 11 MB of base64 text on one line.
    output = {"image": "iVBORw0KGgo" + "A" * 11_000_000, "mime_type": "image/png", "width": 128}
    details.show_record(make_record("img", JobState.COMPLETED, output=output))
    qtbot.waitUntil(lambda: details.raw_note.text() != "", timeout=20_000)
    note = details.raw_note.text()
    assert "Showing the first" not in note and "larger output" not in note
    assert note == "Showing the whole output, with 1 long string cut at 10,000 characters."
    assert '"width": 128' in details.raw_view.toPlainText()


def test_long_lines_wrap_so_the_details_fit_a_narrow_jobs_side(
    qtbot: QtBot, details: JobDetails
) -> None:
    """At 1024x700 the jobs side is about 450 px wide: the header and the notes above the output
    wrap instead of widening the pane (which squeezed the request side and cut its target name)."""
    output = {"image": "iVBORw0KGgo" + "A" * 20_000, "mime_type": "image/png"}
    record = make_record("img", JobState.COMPLETED, output=output)
    record.job_id = "sync-0e5e5932-ea78-4fad-81f7-26c9085b0abe-u1"
    details.show_record(record)
    qtbot.waitUntil(lambda: details.raw_note.text() != "", timeout=20_000)
    details.output_tabs.setCurrentIndex(1)  # Raw
    assert details.minimumSizeHint().width() <= 400


def test_images_in_output_are_previewed_and_saved(
    qtbot: QtBot, details: JobDetails, tmp_path: Path
) -> None:
    png = png_bytes(40, 30)
    output = {
        "image": base64.b64encode(png).decode(),
        "url": "data:image/png;base64," + base64.b64encode(png_bytes(8, 8)).decode(),
    }
    details.show_record(make_record("img", JobState.COMPLETED, output=output))
    qtbot.waitUntil(lambda: len(details.images.previews) == 2, timeout=10_000)
    assert details.images.previews[0].pixmap().width() == 40
    assert details.output_tabs.isTabEnabled(2)
    first = job_details.find_images(output)[0]
    details.save_image(first, tmp_path / "out.png")
    qtbot.waitUntil(lambda: (tmp_path / "out.png").exists(), timeout=5000)
    assert (tmp_path / "out.png").read_bytes() == png


def test_failed_job_shows_type_message_and_traceback(details: JobDetails) -> None:
    error = json.dumps(
        {
            "error_type": "ValueError",
            "error_message": "bad seed",
            "error_traceback": TRACEBACK,
            "hostname": "h1",
            "worker_id": "w1",
            "runpod_version": "1.12.0",
        }
    )
    details.show_record(make_record("f", JobState.FAILED, error=error))
    html = details.error_view.text()
    assert "<b>ValueError</b>: bad seed" in html
    assert "line 3" in html and "worker w1" in html
    assert details.tabs.isTabEnabled(2)
    assert details.tabs.currentIndex() == 2  # no output: the error is what there is to read
    details.show_record(make_record("ok", JobState.COMPLETED, output=1))
    assert not details.tabs.isTabEnabled(2)
    assert details.tabs.currentIndex() == 0


def test_history_progress_stream_and_webhooks(details: JobDetails) -> None:
    record = make_record(
        "h",
        JobState.IN_PROGRESS,
        history=[(1_700_000_000.0, "IN_QUEUE"), (1_700_000_001.5, "IN_PROGRESS")],
        progress="2/5",
        stream=["chunk 1", {"token": "x"}],
        webhook_deliveries=0,
    )
    details.show_record(record)
    assert details.history.table.rowCount() == 2
    assert details.history.table.item(1, 1).text() == "IN_PROGRESS"
    assert details.history.progress.text() == "Last progress: 2/5"
    assert details.output_status.text() == "Progress: 2/5"
    assert details.history.chunks.count() == 2
    assert "Webhook deliveries received: 0" in details.history.webhooks.text()


def test_a_newer_snapshot_keeps_the_tree_unless_the_output_changed(
    qtbot: QtBot, details: JobDetails
) -> None:
    record = make_record("s", JobState.COMPLETED, output={"a": [1, 2, 3]})
    details.show_record(record)
    tree = details.output_tree
    index = tree.model.index_for_path(("a", 1))
    tree.view.setCurrentIndex(index)
    details.show_record(evolve(record, webhook_deliveries=1, output={"a": [1, 2, 3]}))
    assert tree.selected_path() == "$.a[1]"
    details.show_record(evolve(record, output={"b": 2}))
    assert tree.selected_path() is None
    assert details.request_view.toPlainText() in ("Formatting…", "") or "hello" in (
        details.request_view.toPlainText()
    )
    qtbot.waitUntil(lambda: "hello s" in details.request_view.toPlainText(), timeout=5000)


def test_a_selected_job_that_fails_opens_on_its_error_and_hides_the_empty_output(
    details: JobDetails,
) -> None:
    running = make_record("watched", JobState.IN_PROGRESS)
    details.show_record(running)
    assert details.tabs.currentIndex() == 0
    assert details.output_tabs.isHidden()  # nothing to show yet: no "$ null" tree
    error = json.dumps({"error_type": "ValueError", "error_message": "bad seed"})
    details.show_record(evolve(running, state=JobState.FAILED, error=error))
    assert details.tabs.currentIndex() == details._error_tab
    assert details.output_status.text() == "No output."
    details.show_record(make_record("done", JobState.COMPLETED, output={"ok": True}))
    assert not details.output_tabs.isHidden()


def test_a_running_job_shows_how_long_it_has_run(details: JobDetails) -> None:
    started = time.time() - 2 * 3600  # two hours ago: the text stays the same for a minute
    running = make_record("run", JobState.IN_PROGRESS, started_at=started)
    details.show_record(running)
    assert "running for 2 h 00 min" in details.summary.text()
    assert details.run_clock_active
    # "No output yet." alone on the Output page stands at its top, not halfway down.
    assert details.output_status.text() == "No output yet."
    assert details.output_status.alignment() & Qt.AlignmentFlag.AlignTop
    done = evolve(running, state=JobState.COMPLETED, finished_at=started + 90.0)
    details.show_record(done)
    assert "ran 1 min 30 s" in details.summary.text()
    assert not details.run_clock_active
