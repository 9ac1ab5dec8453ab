"""What the console keeps on disk: the job history (``jobs.sqlite3``), templates, exports and
copyable snippets of a job's request.

- ``export``: Export jobs from the history to JSON or CSV files that people can share: no secret in
  them.
- ``snippets``: Copy a job's request as a runnable curl command or Python script, with no secret in
  it.
- ``store``: The job history: ``jobs.sqlite3`` in the data folder (WAL), written by one writer
  thread.
- ``templates``: Named request templates: one readable ``.json`` file per template in
  ``<data_dir>/templates/``.
"""
