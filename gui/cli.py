"""The ``job-console`` command: no verb opens the window; a verb runs headless.

Each verb lives in ``gui.commands.<verb>``, whose top level imports only the standard library, so
building the parser stays cheap; the heavy imports happen inside the verb's ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from gui import __version__

# verb -> (module, one-line help). The order is the order shown by --help.
VERBS: dict[str, tuple[str, str]] = {
    "validate": ("gui.commands.validate", "check request bodies against RunPod's rules"),
    "run": ("gui.commands.run", "submit a request, follow the job, print its final status"),
    "sandbox": ("gui.commands.sandbox", "serve the RunPod-compatible sandbox endpoint"),
    "listen": ("gui.commands.listen", "receive RunPod webhook deliveries and print them"),
    "profile": ("gui.commands.profile", "add, list, test and remove profiles"),
}


def build_parser() -> argparse.ArgumentParser:
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
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND")
    for verb, (module_name, help_text) in VERBS.items():
        module = importlib.import_module(module_name)
        sub = verbs.add_parser(verb, help=help_text, description=help_text)
        sub.set_defaults(_module=module_name)
        module.add_arguments(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.verb is None:
        from gui.app import run_app

        return run_app(args)
    module = importlib.import_module(args._module)
    result: int = module.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
