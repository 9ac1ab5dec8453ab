"""What can be done to the selected jobs, and why not when it can't (shown on hover).

``availability`` is plain logic over records, RunPod's rules included (retry only FAILED and
TIMED_OUT, cancel only before a terminal state); ``JobActions`` holds the ``QAction``s the toolbar,
the context menu and the shortcuts share, and enables them from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from gui.core.records import JobRecord, JobState
from gui.core.redact import holds_redacted, redact_body
from gui.core.wording import counted
from gui.ui.job_style import action_icon

__all__ = ["RETRYABLE_STATES", "JobActions", "availability"]

RETRYABLE_STATES = frozenset({JobState.FAILED, JobState.TIMED_OUT})

CANCEL, RETRY, RESUBMIT_EDITOR, RESUBMIT_TARGET = "cancel", "retry", "resubmit", "resubmit_target"
COPY_ID, COPY_CURL, COPY_PYTHON = "copy_id", "copy_curl", "copy_python"
REMOVE, EXPORT_JSON, EXPORT_CSV = "remove", "export_json", "export_csv"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str  # when allowed: what the action will do; when not: why not


def _one(records: list[JobRecord], action: str) -> str | None:
    if not records:
        return f"Select a job to {action}."
    if len(records) > 1:
        return f"Select a single job to {action}."
    return None


def availability(records: list[JobRecord], target_name: str | None) -> dict[str, Verdict]:
    """For each action, whether it applies to ``records`` (the selection), and why (not)."""
    verdicts: dict[str, Verdict] = {}
    n = len(records)
    jobs = counted(n, "selected job")
    cancellable = [r for r in records if not r.terminal and r.job_id]
    if not records:
        verdicts[CANCEL] = Verdict(False, "Select a job that is queued or running to cancel it.")
    elif not cancellable:
        verdicts[CANCEL] = Verdict(
            False, "Only jobs that are queued or running (and have a job id) can be cancelled."
        )
    else:
        verdicts[CANCEL] = Verdict(True, f"Cancel {len(cancellable)} of the {jobs} on RunPod.")
    retryable = [r for r in records if r.state in RETRYABLE_STATES and r.job_id]
    if not records:
        verdicts[RETRY] = Verdict(False, "Select a FAILED or TIMED_OUT job to retry it.")
    elif not retryable:
        verdicts[RETRY] = Verdict(False, "RunPod retries only FAILED and TIMED_OUT jobs.")
    else:
        again = f"Ask RunPod to run {counted(len(retryable), 'job')} again."
        verdicts[RETRY] = Verdict(True, again)
    single = _one(records, "resubmit it")
    verdicts[RESUBMIT_EDITOR] = Verdict(
        single is None, single or "Put this job's request into the editor, to change and send it."
    )
    if single is not None:
        verdicts[RESUBMIT_TARGET] = Verdict(False, single)
    elif target_name is None:
        verdicts[RESUBMIT_TARGET] = Verdict(False, "Choose a target first.")
    elif holds_redacted(redact_body(records[0].request)):
        verdicts[RESUBMIT_TARGET] = Verdict(
            False, "The request held a secret, stored redacted: resubmit it through the editor."
        )
    else:
        verdicts[RESUBMIT_TARGET] = Verdict(True, f"Send the same request again to {target_name}.")
    with_id = [r for r in records if r.job_id]
    copy_ids = "Copy the job id." if len(with_id) == 1 else "Copy the job ids."
    verdicts[COPY_ID] = Verdict(
        bool(with_id), copy_ids if with_id else "No selected job has a job id yet."
    )
    for key, language in ((COPY_CURL, "a curl command"), (COPY_PYTHON, "a Python script")):
        single = _one(records, "copy its request")
        verdicts[key] = Verdict(
            single is None,
            single or f"Copy the request as {language}; the API key is a placeholder.",
        )
    none = "Select jobs first." if not records else ""
    verdicts[REMOVE] = Verdict(bool(records), none or f"Remove the {jobs} from the history.")
    verdicts[EXPORT_JSON] = Verdict(bool(records), none or f"Export the {jobs} to a JSON file.")
    verdicts[EXPORT_CSV] = Verdict(bool(records), none or f"Export the {jobs} to a CSV file.")
    return verdicts


class JobActions:
    """The actions on selected jobs, with icons and shortcuts, attached to ``owner``.

    Shortcuts work while focus is inside ``owner`` (the jobs panel), so they never clash with the
    editor's own (Ctrl+C copies text there, a job id here).
    """

    def __init__(self, owner: QWidget) -> None:
        def make(key: str, text: str, icon: str | None, shortcut: str | None = None) -> QAction:
            action = QAction(text, owner)
            action.setObjectName(f"action_{key}")
            if icon:
                action.setIcon(action_icon(icon))
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            owner.addAction(action)
            return action

        self.by_key: dict[str, QAction] = {
            CANCEL: make(CANCEL, "Cancel", "cancel", "Ctrl+."),
            RETRY: make(RETRY, "Retry", "retry", "Ctrl+R"),
            RESUBMIT_EDITOR: make(RESUBMIT_EDITOR, "Resubmit in editor", "resubmit", "Ctrl+E"),
            RESUBMIT_TARGET: make(RESUBMIT_TARGET, "Send again", "resubmit", "Ctrl+Shift+R"),
            COPY_ID: make(COPY_ID, "Copy job id", "copy", "Ctrl+C"),
            COPY_CURL: make(COPY_CURL, "Copy as curl", "copy", "Ctrl+Shift+C"),
            COPY_PYTHON: make(COPY_PYTHON, "Copy as Python", "copy", "Ctrl+Alt+C"),
            REMOVE: make(REMOVE, "Remove from history", "remove", "Delete"),
            EXPORT_JSON: make(EXPORT_JSON, "Export to JSON…", "export", "Ctrl+Shift+E"),
            EXPORT_CSV: make(EXPORT_CSV, "Export to CSV…", "export"),
        }

    def __getitem__(self, key: str) -> QAction:
        return self.by_key[key]

    def update(self, records: list[JobRecord], target_name: str | None) -> None:
        """Enable each action for the selection; its tooltip says what it does or why it can't."""
        for key, verdict in availability(records, target_name).items():
            action = self.by_key[key]
            action.setEnabled(verdict.allowed)
            action.setToolTip(verdict.reason)
            action.setStatusTip(verdict.reason)

    def context_menu(self, parent: QWidget) -> QMenu:
        menu = QMenu(parent)
        menu.setToolTipsVisible(True)  # disabled entries say why on hover
        groups = (
            (CANCEL, RETRY),
            (RESUBMIT_EDITOR, RESUBMIT_TARGET),
            (COPY_ID, COPY_CURL, COPY_PYTHON),
            (EXPORT_JSON, EXPORT_CSV),
            (REMOVE,),
        )
        for number, group in enumerate(groups):
            if number:
                menu.addSeparator()
            for key in group:
                menu.addAction(self.by_key[key])
        return menu
