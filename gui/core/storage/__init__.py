"""What the console keeps on disk: the job history (``jobs.sqlite3``), templates, exports and
copyable snippets of a job's request.

- ``export``: Export jobs from the history to JSON or CSV files that people can share: no secret in
  them.
- ``history``: Search and page the job history (search syntax, counts, sorts, saved views) on a
  read connection of its own.
- ``job_index``: Schema 3 of the job tables: an index per sort and filter, the text search index
  and the state counts, kept by triggers.
- ``job_logs``: Schema 4: each job's worker log lines (``job_logs``), capped per job, read back
  as ``JobLogLine``.
- ``run_results``: A data run's results, one line per row (variables, status, output) in CSV or
  JSONL: ``--results`` and the window's export.
- ``snippets``: Copy a job's request as a runnable curl command or Python script, with no secret in
  it.
- ``sqlite_file``: The one way to open ``jobs.sqlite3`` (private, busy timeout, WAL, triggers).
- ``store``: The job history: ``jobs.sqlite3`` in the data folder (WAL), written by one writer
  thread.
- ``templates``: Named request templates: one readable ``.json`` file per template in
  ``<data_dir>/templates/``.
- ``transfer``: The history in and out as files: ``job-console history show``, ``export`` and
  ``import``.
"""
