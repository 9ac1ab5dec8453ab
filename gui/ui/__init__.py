"""The window: Qt widgets and item models over the engine, which they reach through one bridge.

Importing this package has no side effect. The window process's tuning (PySide6's set-up, the
garbage collector) is ``gui.ui.runtime.install()``, called once before the window's modules are
imported (``gui.cli.main``, ``gui.app.run_app``).

At the root, what every part of the window shares:

- ``bridge``: the one way to the engine: commands out (each answered by a future), coalesced
  batches of plain job records in, on the Qt thread.
- ``tasks``: the one way to local background work (formatting, scanning, reading files):
  ``run_in_background(task, on_done)`` and ``when_done(future, on_done)``, heard on the Qt thread.
- ``runtime``: the process's tuning, with the measurements that justify each part.
- ``theme``: colours per scheme; ``flow_layout``: a wrapping row of widgets.

The features, one package each (read its ``__init__`` for its map):

- ``window``: the main window, menus, window state, help, the question before quitting.
- ``request``: the JSON editor, its diagnostics and options form, drafts, templates, batches.
- ``jobs``: the job table, filters, details, actions, the health strip, notifications.
- ``webhooks``: the webhook log and the listener's settings.
- ``profiles``: the Profiles dialog, S3 credentials, which target Submit uses, local workers.
- ``account``: the selected endpoint's workers (the Workers tab) and the endpoint picker.
"""
