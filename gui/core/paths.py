"""Where the console keeps its data: one folder, chosen once."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATA_DIR_ENV", "resolve_data_dir"]

DATA_DIR_ENV = "JOB_CONSOLE_HOME"


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--data-dir`` wins, then ``JOB_CONSOLE_HOME``, then the per-user data folder."""
    if explicit:
        chosen = Path(explicit)
    elif os.environ.get(DATA_DIR_ENV):
        chosen = Path(os.environ[DATA_DIR_ENV])
    else:
        from platformdirs import user_data_dir

        chosen = Path(user_data_dir("runpod-job-console", appauthor=False))
    chosen = chosen.expanduser().resolve()
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen
