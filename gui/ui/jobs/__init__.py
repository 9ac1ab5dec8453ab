"""The jobs side of the window: the job table (model, filters, style), the selected job's details,
what can be done to jobs, the health strip and desktop notifications.

- ``actions``: What can be done to the selected jobs, and why not when it can't (shown on hover).
- ``cells``: What each cell of a job's row shows: the columns, their text, colour, icon and
  tooltip, and the times a job's row reads.
- ``details``: The selected job's details (``jobDetails``): output, request, error, logs, history.
- ``filters``: The filter row above ``jobTable``: one toggle per status (with its count) and the
  search field (``search_field``).
- ``first_run``: The first five minutes: a hint over the empty job table that says what to do, gone
  once a job exists, and the example template a new user starts from.
- ``health``: The health strip: the selected target's ``/health`` counters, refreshed while visible.
- ``model``: The job table: a Qt model that is a window onto the job history in SQLite (a page
  of rows at a time, sorted and filtered in SQL, the engine's changes shown live).
- ``notify``: A desktop notification when jobs end while the window is not active.
- ``pages``: Reading the job history for the job table, on the ``Lane.HISTORY`` thread (no Qt).
- ``panel``: The jobs side of the window: toolbar, filters with counts, ``jobTable``,
  ``jobDetails``, health.
- ``saved_views``: Saved views: a named search and sort of the job table, picked again from the
  toolbar's Views menu.
- ``search_field``: The job table's search field (``jobFilterText``): the history's search syntax,
  read as typed.
- ``style``: How jobs look: a colour and an icon per state, and readable times and durations.
- ``waiting``: Why a job queued long waits: the diagnosis of its target, asked through the bridge
  while such jobs are on screen, shown in its Status cell and the details.
"""
