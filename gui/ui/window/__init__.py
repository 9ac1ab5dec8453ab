"""The main window and what belongs to the whole window: menus, what it remembers between runs,
the help dialogs, the question before quitting, and the jobs/webhooks tab area.

- ``engine_bar``: The bar over the jobs that says when the engine stopped or does not answer, with
  Restart engine.
- ``help_dialogs``: Help > About and Help > Keyboard shortcuts.
- ``jobs_area``: The window's right side: the jobs (table, details, health) and the webhook
  deliveries, as tabs.
- ``main_window``: The main window: templates | request | jobs, menus, file handling, settings, and
  submitting.
- ``menus``: The window's desktop side: View (appearance, moving around), Webhooks and Help menus,
  the listener's state in the status bar, and the first-run hint. ``install_desktop(window)`` adds
  them to a built ``MainWindow``.
- ``quit_guard``: The question before the window quits while jobs run on the built-in sandbox.
- ``window_state``: What the window remembers between runs: geometry and splitters, the operation,
  the profile and the file in QSettings (an INI file in the data folder, so tests and ``--data-dir``
  stay separate), and the editor's text as a secret-free draft (``gui.ui.request.drafts``).
"""
