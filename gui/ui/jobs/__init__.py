"""The jobs side of the window: the job table (model, filters, style), the selected job's details,
what can be done to jobs, the health strip and desktop notifications.

- ``actions``: What can be done to the selected jobs, and why not when it can't (shown on hover).
- ``cells``: What each cell of a job's row shows: the columns, their text, colour, icon and
  tooltip, and the times a job's row reads.
- ``details``: ``jobDetailsView`` (in ``jobDetails``): the selected job's output, request, error,
  history.
- ``details_pane``: The area under the job table (``jobDetails``): a short hint until a job is first
  shown, then ``JobDetails`` (``jobDetailsView``) inside it.
- ``details_parts``: Parts of ``jobDetails``: the status history, the images found in an output, the
  error layout.
- ``filters``: The filter row above ``jobTable``: one toggle per status (with its count) and the
  search field (``search_field``).
- ``first_run``: The first five minutes: a hint over the empty job table that says what to do, gone
  once a job exists, and the example template a new user starts from.
- ``health``: The health strip: the selected target's ``/health`` counters, refreshed while visible.
- ``json_tree``: A lazy JSON tree: children are made only when a branch is opened, a few hundred at
  a time.
- ``logs_tab``: The details' Logs tab (``jobLogs``): the worker log lines kept with the job, read
  from the history while it runs, and the last of them beside a failed job's error.
- ``model``: The job table: a Qt model that is a window onto the job history in SQLite (a page
  of rows at a time, sorted and filtered in SQL, the engine's changes shown live).
- ``notify``: A desktop notification when jobs end while the window is not active.
- ``output_scan``: Work on a job's output that may be large, meant to run OFF the Qt thread (no Qt
  imports here).
- ``pages``: Reading the job history for the job table, on the ``Lane.HISTORY`` thread (no Qt).
- ``panel``: The jobs side of the window: toolbar, filters with counts, ``jobTable``,
  ``jobDetails``, health.
- ``saved_views``: Saved views: a named search and sort of the job table, picked again from the
  toolbar's Views menu.
- ``search_field``: The job table's search field (``jobFilterText``): the history's search syntax,
  read as typed.
- ``style``: How jobs look: a colour and an icon per state, and readable times and durations.
"""
