"""The selected job's details under the job table (``jobDetails``): its output, request, error,
logs and history, and the work on big outputs done off the Qt thread.

- ``json_tree``: A lazy JSON tree: children are made only when a branch is opened, a few hundred at
  a time.
- ``logs_tab``: The details' Logs tab (``jobLogs``): the worker log lines kept with the job, read
  from the history while it runs, and the last of them beside a failed job's error.
- ``output_scan``: Work on a job's output that may be large, meant to run OFF the Qt thread (no Qt
  imports here).
- ``pane``: The area under the job table (``jobDetails``): a short hint until a job is first
  shown, then ``JobDetails`` (``jobDetailsView``) inside it.
- ``parts``: Parts of ``jobDetails``: the status history, the images found in an output, the
  error layout.
- ``view``: ``jobDetailsView`` (in ``jobDetails``): the selected job's output, request, error,
  history.
"""
