"""The ``job-console`` command: no verb opens the window; a verb runs headless.

Each verb lives in ``gui.commands.<verb>``, whose top level imports only the standard library, so
building the parser stays cheap; the heavy imports happen inside the verb's ``run``. Opening the
window imports none of them (``named_verb``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Collection, Sequence

from gui import __version__

# verb -> (module, one-line help). The order is the order shown by --help.
VERBS: dict[str, tuple[str, str]] = {
    "validate": ("gui.commands.validate", "check request bodies against RunPod's rules"),
    "run": ("gui.commands.run", "submit a request, follow the job, print its final status"),
    "resume": ("gui.commands.resume", "follow every unfinished job of the history to its end"),
    "history": ("gui.commands.history", "show, follow, export and import jobs of the history"),
    "logs": ("gui.commands.logs", "print the worker log lines kept with a job (--follow)"),
    "sandbox": ("gui.commands.sandbox", "serve the RunPod-compatible sandbox endpoint"),
    "listen": ("gui.commands.listen", "receive RunPod webhook deliveries and print them"),
    "profile": ("gui.commands.profile", "add, list, test and remove profiles"),
    "endpoints": ("gui.commands.endpoints", "list the account's serverless endpoints"),
    "workers": ("gui.commands.workers", "show an endpoint's workers and why its jobs would wait"),
}

# Verbs left out of --help: the window's own engine process (gui.commands.engine).
HIDDEN_VERBS: dict[str, str] = {"engine": "gui.commands.engine"}


# Exit status when the window cannot start here (a missing system library, no display).
WINDOW_CANNOT_START = 1

# The top-level options that take a value (the value is never a verb).
_VALUED_OPTIONS = ("--data-dir", "--profile", "--engine")


def build_parser(only: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, the options of just those verbs (whose modules are
    imported to add them): the window's start builds it with none (``main``)."""
    parser = argparse.ArgumentParser(
        prog="job-console",
        description="RunPod Job Console. With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"job-console {__version__}")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder for the job history, templates and profiles (default: the per-user data "
        "folder; the JOB_CONSOLE_HOME variable sets it too)",
    )
    parser.add_argument("--profile", metavar="NAME", help="profile selected when the window opens")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="open the window, submit one job to the built-in sandbox, exit 0 once it completes",
    )
    parser.add_argument(  # hidden: tests and a fallback; gui.app.ENGINES says what each is
        "--engine", choices=("process", "thread"), default="process", help=argparse.SUPPRESS
    )
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND")
    for verb, (module_name, help_text) in VERBS.items():
        sub = verbs.add_parser(verb, help=help_text, description=help_text)
        sub.set_defaults(_module=module_name)
        if only is None or verb in only:
            importlib.import_module(module_name).add_arguments(sub)
    for verb, module_name in HIDDEN_VERBS.items():
        # Added without help: argparse then leaves it out of the list of commands.
        sub = verbs.add_parser(verb)
        sub.set_defaults(_module=module_name)
        if only is None or verb in only:
            importlib.import_module(module_name).add_arguments(sub)
    return parser


def named_verb(argv: Sequence[str]) -> str | None:
    """The verb ``argv`` names (its first positional word), or None: the window.

    Read the way the parser reads the top level, so that opening the window imports no verb's
    module (the sandbox's alone took 15 ms of the window's start).
    """
    words = iter(argv)
    for word in words:
        if word.startswith("-"):
            name = word.split("=", 1)[0]
            takes_value = len(name) > 2 and any(o.startswith(name) for o in _VALUED_OPTIONS)
            if takes_value and "=" not in word:
                next(words, None)
            continue
        return word if word in VERBS or word in HIDDEN_VERBS else None
    return None


def window_defaults() -> argparse.Namespace:
    """What the parser makes of no argument at all (a test keeps the two the same)."""
    return argparse.Namespace(data_dir=None, profile=None, smoke=False, engine="process", verb=None)


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words:
        verb = named_verb(words)
        args = build_parser(only=() if verb is None else (verb,)).parse_args(words)
    else:
        # No argument (a launcher's start): the window with every default, and no parser to
        # build, which took 4 ms (its help texts look for translations).
        args = window_defaults()
    if args.verb is None:
        # Before PySide6 is imported: a missing system library or display gets words that say
        # what to install or do, not Qt's abort (exit 134) or an ImportError's traceback.
        from gui.platform_check import window_problem

        problem = window_problem()
        if problem is not None:
            print(problem, file=sys.stderr)
            return WINDOW_CANNOT_START
        # Before the window's modules are imported: PySide6's set-up must precede them, and the
        # collector stays off over them (gui.ui.runtime says why).
        from gui.ui import runtime

        runtime.install()
        from gui.app import run_app

        return run_app(args)
    module = importlib.import_module(args._module)
    try:
        result: int = module.run(args)
        sys.stdout.flush()  # now, while a reader that went away can still be handled
    except BrokenPipeError:
        return _reader_gone()
    return result


def _reader_gone() -> int:
    """The reader of stdout went away (``job-console ... | head -1``): end quietly, status 1.

    What stdout still buffers goes to the null device: flushed to the closed pipe at exit, it
    would print an "Exception ignored" traceback.
    """
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 1


if __name__ == "__main__":
    sys.exit(main())
