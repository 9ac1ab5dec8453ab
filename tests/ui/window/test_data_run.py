"""Run with data… in the window, against the built-in sandbox: the preview, the sending of the
valid rows, Rerun failed rows, the results per row, and a CSV dropped on a template."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from gui.core.records import JobRecord, JobState
from gui.ui.jobs import actions as acts
from gui.ui.request.data_run import DataRunDialog
from gui.ui.window.main_window import MainWindow
from tests.support.request_helpers import TIMEOUT_MS, file_mime, open_window, settle

TEMPLATE = {
    "input": {
        "prompt": "a {{animal}} on a mat",
        "seed": "{{seed}}",
        "sandbox": {"duration": 0.05, "fail": "{{fail ?? false}}"},
    }
}
ROWS = "name,animal,seed,fail\nfirst,cat,1,\nsecond,dog,2,boom\nragged,x\nfourth,owl,4,\n"


@pytest.fixture
def window(qtbot: QtBot, data_dir: Path, tmp_path: Path) -> Iterator[MainWindow]:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(TEMPLATE, indent=2), "utf-8")
    win = open_window(qtbot, data_dir)
    win.open_path(path)
    qtbot.waitUntil(lambda: win.file_path == path, timeout=TIMEOUT_MS)
    settle(qtbot, win.request)
    yield win
    win.close()


def previewed(qtbot: QtBot, window: MainWindow) -> DataRunDialog:
    qtbot.waitUntil(lambda: window.data_run_dialog is not None, timeout=TIMEOUT_MS)
    dialog = window.data_run_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.previewed, timeout=TIMEOUT_MS)
    return dialog


def sent(qtbot: QtBot, dialog: DataRunDialog) -> tuple[int, int]:
    with qtbot.waitSignal(dialog.sig_finished_sending, timeout=TIMEOUT_MS * 2) as finished:
        dialog.send_button.click()
    delivered, not_sent = finished.args
    return delivered, not_sent


def ended(qtbot: QtBot, window: MainWindow, count: int) -> list[JobRecord]:
    assert window.engine is not None
    engine = window.engine
    qtbot.waitUntil(
        lambda: len(engine.jobs()) == count and all(job.terminal for job in engine.jobs()),
        timeout=TIMEOUT_MS * 3,
    )
    return engine.jobs()


def problem_rows(dialog: DataRunDialog) -> list[tuple[str, str]]:
    tree = dialog.problems
    return [(tree.topLevelItem(i).text(0), tree.topLevelItem(i).text(1))
            for i in range(tree.topLevelItemCount())]  # fmt: skip


def test_a_data_run_previews_then_sends_the_valid_rows_each_with_its_row(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS, "utf-8")
    window.run_with_data(rows)
    dialog = previewed(qtbot, window)
    assert (dialog.rows, dialog.valid, dialog.invalid) == (4, 3, 1)
    assert "4 rows: 3 valid, 1 invalid" in dialog.summary.text().replace("<b>", "").replace(
        "</b>", ""
    )
    [(label, problem)] = problem_rows(dialog)
    assert label == "row 3 (line 4)"
    assert "it has 2 cells, the header has 4 columns" in problem
    assert '"prompt": "a cat on a mat", "seed": 1' in dialog.preview.toPlainText()
    assert dialog.send_button.text() == "Send 3 rows to /run"
    assert sent(qtbot, dialog) == (3, 0)
    assert dialog.progress.value() == 3
    jobs = {job.row: job for job in ended(qtbot, window, 3)}
    assert set(jobs) == {1, 2, 4}  # the ragged row was not sent
    assert jobs[4].request["input"]["prompt"] == "a owl on a mat"
    assert jobs[4].request["input"]["seed"] == 4
    assert jobs[2].state == JobState.FAILED and jobs[1].state == JobState.COMPLETED
    origin = jobs[2].origin
    assert origin is not None
    assert (origin["data"], origin["name"], origin["body"]) == (str(rows), "second", TEMPLATE)
    assert origin["file"] == str(window.file_path)


def test_rerun_failed_rows_sends_only_the_rows_whose_last_job_failed(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS, "utf-8")
    window.run_with_data(rows)
    assert sent(qtbot, previewed(qtbot, window)) == (3, 0)
    failed = next(job for job in ended(qtbot, window, 3) if job.state == JobState.FAILED)
    assert failed.row == 2
    window.data_run_dialog.close()
    # The cause is fixed in the data file; the rerun sends row 2 alone, with the data as it is now.
    rows.write_text(ROWS.replace("dog,2,boom", "dog,2,"), "utf-8")
    panel = window.jobs_panel
    qtbot.waitUntil(lambda: panel.select_job(failed.local_id), timeout=TIMEOUT_MS)
    action = panel.job_actions[acts.RERUN_ROWS]
    assert action.isEnabled(), action.toolTip()
    action.trigger()
    qtbot.waitUntil(lambda: window.data_run_dialog is not None
                    and window.data_run_dialog.source.rerun_history is not None,
                    timeout=TIMEOUT_MS)  # fmt: skip
    dialog = previewed(qtbot, window)
    assert (dialog.rows, dialog.valid, dialog.invalid) == (1, 1, 0)
    assert sent(qtbot, dialog) == (1, 0)
    again = [job for job in ended(qtbot, window, 4) if job.local_id != failed.local_id]
    rerun = [job for job in again if job.row == 2]
    assert len(rerun) == 1 and rerun[0].state == JobState.COMPLETED
    # Nothing failed last any more: a second rerun finds no row to send.
    dialog.close()
    qtbot.waitUntil(lambda: panel.select_job(rerun[0].local_id), timeout=TIMEOUT_MS)
    window.rerun_failed_rows()
    qtbot.waitUntil(lambda: window.data_run_dialog is not dialog, timeout=TIMEOUT_MS)
    last = previewed(qtbot, window)
    assert last.rows == 0 and not last.send_button.isEnabled()
    assert "has a last job that FAILED or TIMED_OUT" in last.summary.text()


def test_the_results_are_exported_one_line_per_row(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS, "utf-8")
    window.run_with_data(rows)
    assert sent(qtbot, previewed(qtbot, window)) == (3, 0)
    jobs = ended(qtbot, window, 3)
    window.data_run_dialog.close()
    panel = window.jobs_panel
    qtbot.waitUntil(lambda: panel.select_job(jobs[0].local_id), timeout=TIMEOUT_MS)
    assert panel.job_actions[acts.EXPORT_ROWS].isEnabled()
    out = tmp_path / "results.csv"
    window.export_data_run_results(out)
    qtbot.waitUntil(lambda: "Exported 4 row(s)" in window.statusBar().currentMessage(),
                    timeout=TIMEOUT_MS)  # fmt: skip
    with out.open(encoding="utf-8", newline="") as handle:
        lines = {int(line["row"]): line for line in csv.DictReader(handle)}
    assert {row: line["status"] for row, line in lines.items()} == {
        1: "COMPLETED", 2: "FAILED", 3: "INVALID", 4: "COMPLETED"
    }  # fmt: skip
    assert json.loads(lines[1]["variables"]) == {"name": "first", "animal": "cat", "seed": "1"}
    assert json.loads(lines[4]["output"])["prompt"] == "a owl on a mat"
    assert lines[2]["error"] and lines[2]["job_id"]
    jsonl = tmp_path / "results.jsonl"
    window.export_data_run_results(jsonl)
    qtbot.waitUntil(jsonl.exists, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: str(jsonl) in window.statusBar().currentMessage(), timeout=TIMEOUT_MS)
    items = [json.loads(line) for line in jsonl.read_text("utf-8").splitlines()]
    assert [item["status"] for item in items] == ["COMPLETED", "FAILED", "INVALID", "COMPLETED"]


def test_stop_ends_the_sending_and_what_was_sent_stays(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"animal": "cat", "seed": n}) + "\n" for n in range(300)))
    window.run_with_data(rows)
    dialog = previewed(qtbot, window)
    assert dialog.valid == 300
    with qtbot.waitSignal(dialog.sig_finished_sending, timeout=TIMEOUT_MS * 3) as finished:
        dialog.send_button.click()
        qtbot.waitUntil(lambda: dialog.delivered > 0, timeout=TIMEOUT_MS)
        dialog.close_button.click()  # "Stop"
    delivered, not_sent = finished.args
    assert 0 < delivered < 300 and not_sent == 0
    assert "Stopped before the end" in dialog.summary.text()
    assert window.engine is not None
    qtbot.waitUntil(lambda: len(window.engine.jobs()) == delivered, timeout=TIMEOUT_MS)


def test_a_csv_dropped_on_a_template_offers_a_data_run_and_a_jsonl_of_bodies_stays_a_batch(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS, "utf-8")
    window.request.editor.handle_drop(file_mime(rows))
    dialog = previewed(qtbot, window)
    assert dialog.source.data == rows and dialog.valid == 3
    assert json.loads(dialog.source.text) == TEMPLATE
    dialog.close()
    bodies = tmp_path / "bodies.jsonl"
    bodies.write_text('{"input": {"n": 1}}\n{"input": {"n": 2}}\n', "utf-8")
    window.request.editor.handle_drop(file_mime(bodies))
    qtbot.waitUntil(lambda: window.batch_dialog is not None, timeout=TIMEOUT_MS)
    assert window.data_run_dialog is dialog  # no new data run
    window.batch_dialog.reject()
    variables = tmp_path / "vars.jsonl"
    variables.write_text('{"animal": "cat", "seed": 1}\n', "utf-8")
    window.request.editor.handle_drop(file_mime(variables))
    qtbot.waitUntil(lambda: window.data_run_dialog is not dialog, timeout=TIMEOUT_MS)
    assert previewed(qtbot, window).source.data == variables


def test_the_button_beside_submit_and_the_menu_pick_a_data_file(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS, "utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(rows), ""))
    assert window.data_run_action.shortcut().toString() == "Ctrl+Shift+D"
    window.request.data_run_button.click()
    assert previewed(qtbot, window).source.data == rows


def test_the_preview_reads_a_big_file_in_chunks_and_stop_ends_it(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    rows = tmp_path / "big.csv"
    with rows.open("w", encoding="utf-8") as handle:
        handle.write("animal,seed\n")
        handle.writelines(f"cat,{n}\n" for n in range(50_000))
    window.run_with_data(rows)
    qtbot.waitUntil(lambda: window.data_run_dialog is not None, timeout=TIMEOUT_MS)
    dialog = window.data_run_dialog
    assert dialog is not None and dialog.busy
    dialog.close_button.click()  # "Stop", before the first chunk is read
    qtbot.waitUntil(lambda: dialog.previewed, timeout=TIMEOUT_MS)
    assert 0 < dialog.rows < 50_000  # one chunk read, no more
    assert "Reading was stopped" in dialog.summary.text()
    assert not dialog.send_button.isEnabled()
    assert window.engine is not None and window.engine.jobs() == []
