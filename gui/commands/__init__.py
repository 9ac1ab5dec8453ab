"""One module per command-line verb.

Each exposes ``add_arguments(parser)`` and ``run(args) -> int``.

Modules are imported only when their verb is used, so ``job-console --help`` and the window start
without loading the sandbox, the engine or Qt needlessly.
"""
