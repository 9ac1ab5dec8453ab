"""What can be done to the selected jobs, and why not when it can't (shown on hover).

``availability`` is plain logic over records, RunPod's rules included (retry only FAILED and
TIMED_OUT, cancel only before a terminal state); ``JobActions`` holds the ``QAction``s the toolbar,
the context menu and the shortcuts share, and enables them from it.

Send again works on a selection (``send_again_plan``): a NOT_SENT job is sent again as itself, to
the endpoint it was meant for (as ``job-console resume --resend-not-sent`` does), after a warning
(``resend_warning``); any other job's request is sent to the chosen target as a new job.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from gui.core.records import JobRecord, JobState
from gui.core.redact import holds_redacted, redact_body
from gui.core.wording import counted
from gui.ui.jobs.style import action_icon

__all__ = [
    "RETRYABLE_STATES",
    "JobActions",
    "SendAgainPlan",
    "availability",
    "data_run_of",
    "resend_warning",
    "send_again_plan",
]

RETRYABLE_STATES = frozenset({JobState.FAILED, JobState.TIMED_OUT})

CANCEL, RETRY, RESUBMIT_EDITOR, RESUBMIT_TARGET = "cancel", "retry", "resubmit", "resubmit_target"
COPY_ID, COPY_CURL, COPY_PYTHON = "copy_id", "copy_curl", "copy_python"
REMOVE, EXPORT_JSON, EXPORT_CSV = "remove", "export_json", "export_csv"
RERUN_ROWS, EXPORT_ROWS = "rerun_rows", "export_rows"  # the data run of the selected job


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str  # when allowed: what the action will do; when not: why not


@dataclass(frozen=True)
class SendAgainPlan:
    """What Send again does with a selection."""

    resend: list[JobRecord]  # NOT_SENT: sent again as themselves, to their own endpoints
    resubmit: list[JobRecord]  # the others: their requests go to the chosen target as new jobs
    redacted: int  # skipped: the request held a secret, kept redacted in the history
    no_target: int  # skipped: not NOT_SENT, and no target is chosen

    @property
    def total(self) -> int:
        return len(self.resend) + len(self.resubmit)


def send_again_plan(records: list[JobRecord], target_name: str | None) -> SendAgainPlan:
    resend: list[JobRecord] = []
    resubmit: list[JobRecord] = []
    redacted = no_target = 0
    for record in records:
        if holds_redacted(redact_body(record.request)):
            redacted += 1
        elif record.state == JobState.NOT_SENT:
            resend.append(record)
        elif target_name is None:
            no_target += 1
        else:
            resubmit.append(record)
    return SendAgainPlan(resend, resubmit, redacted, no_target)


def _jobs(n: int) -> str:
    return f"{n} job{'s' if n != 1 else ''}"


def resend_warning(plan: SendAgainPlan, target_name: str | None) -> str:
    """The question asked before Send again sends NOT_SENT jobs (or several jobs)."""
    parts = []
    if plan.resend:
        parts.append(f"Send {_jobs(len(plan.resend))} that were not sent again, each to the "
                     "endpoint it was meant for?")  # fmt: skip
    if plan.resubmit:
        verb = "Also send" if plan.resend else "Send"
        parts.append(f"{verb} the requests of {_jobs(len(plan.resubmit))} again to "
                     f"{target_name}, as new jobs?")  # fmt: skip
    if plan.resend:
        parts.append(
            "\n\nA request whose connection dropped after it was sent (its note says the "
            'endpoint "may have queued it") may already be queued there, and would then run '
            "twice. Check the endpoint's queue first if that matters."
        )
    if plan.redacted:
        parts.append(f"\n\n{_jobs(plan.redacted)} held a secret, kept redacted in the history: "
                     "send those from the editor (Resubmit in editor).")  # fmt: skip
    return " ".join(parts).replace(" \n", "\n")


def _send_again_verdict(records: list[JobRecord], target_name: str | None) -> Verdict:
    if not records:
        return Verdict(False, "Select jobs to send them again.")
    plan = send_again_plan(records, target_name)
    if plan.total == 0:
        if plan.redacted:
            return Verdict(
                False, "The request held a secret, stored redacted: resubmit it through the editor."
            )
        return Verdict(False, "Choose a target first.")
    parts = []
    if plan.resend:
        n = len(plan.resend)
        parts.append(f"the {n} NOT_SENT job{'s' if n != 1 else ''} again to their own endpoints")
    if plan.resubmit:
        what = "the same request" if len(plan.resubmit) == 1 else (
            f"the requests of {_jobs(len(plan.resubmit))}")  # fmt: skip
        parts.append(f"{what} again to {target_name}")
    skipped = plan.redacted + plan.no_target
    tail = f" ({skipped} skipped: a redacted secret, or no target)" if skipped else ""
    return Verdict(True, f"Send {' and '.join(parts)}{tail}.")


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
    verdicts[RESUBMIT_TARGET] = _send_again_verdict(records, target_name)
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
    verdicts.update(_data_run_verdicts(records))
    return verdicts


def data_run_of(record: JobRecord) -> str | None:
    """The data file of the run that made ``record`` (Run with data…, ``run --data``), if any."""
    data = record.origin.get("data") if record.origin else None
    return data if isinstance(data, str) and data else None


def _data_run_verdicts(records: list[JobRecord]) -> dict[str, Verdict]:
    single = _one(records, "act on its data run")
    data = data_run_of(records[0]) if single is None else None
    if single is None and data is None:
        single = "This job was not made by a data run (Run with data…)."
    if single is not None:
        return {RERUN_ROWS: Verdict(False, single), EXPORT_ROWS: Verdict(False, single)}
    name = data.replace("\\", "/").rsplit("/", 1)[-1] if data else ""
    return {
        RERUN_ROWS: Verdict(True, f"Send again the rows of {name} whose last job FAILED or "
                            "TIMED_OUT (a preview first)."),
        EXPORT_ROWS: Verdict(True, f"Export one line per row of {name}: its values, status "
                             "and output (CSV or JSONL)."),
    }  # fmt: skip


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
            RERUN_ROWS: make(RERUN_ROWS, "Rerun failed rows…", "retry"),
            EXPORT_ROWS: make(EXPORT_ROWS, "Export data run results…", "export"),
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
            (RERUN_ROWS, EXPORT_ROWS),
            (REMOVE,),
        )
        for number, group in enumerate(groups):
            if number:
                menu.addSeparator()
            for key in group:
                menu.addAction(self.by_key[key])
        return menu
