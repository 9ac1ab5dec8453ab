"""Workarounds for PySide6 bugs that affect every window; applied once, on import of ``gui.ui``."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

__all__: list[str] = []


class _EmitProbe(QObject):
    sig_probed: Signal = Signal()


def _guard_true_against_emit_refcount_bug() -> None:
    """Work around a PySide6 (seen in 6.12.0) bug that would abort the window after ~5,000 emits.

    ``SignalInstance.emit`` returns ``True`` without a new reference, so each emit from Python
    takes one reference away from ``True``; on CPython 3.11, where ``True`` is not immortal, the
    interpreter aborts ("bool_dealloc: deallocating True or False") when the count reaches zero.
    The probe emits once: only if ``True`` lost a reference is it given a reserve of 2**40, as
    immortal as it is on CPython 3.12+. No-op where the bug is fixed or cannot bite.
    """
    if sys.version_info >= (3, 12):
        return
    probe = _EmitProbe()
    before = sys.getrefcount(True)
    probe.sig_probed.emit()
    if sys.getrefcount(True) < before:
        import ctypes

        # ob_refcnt is the first field of every object in CPython's (non-debug) layout.
        ctypes.c_ssize_t.from_address(id(True)).value += 1 << 40


_guard_true_against_emit_refcount_bug()
