"""The account around the jobs: RunPod's REST v2 management API (endpoints, workers, logs,
releases, GPU prices, billing), as the window and the command line use it.

- ``access``: which management URL and which key to use for a profile, or why there is none.
- ``client``: ``ManagementClient``, one httpx client with timeouts, backoff on 429 and 5xx, and
  RFC 9457 problems turned into ``AccountError`` in words.
- ``cost``: an ended job's estimate (execution time x GPU count x catalog price per second), totals,
  what the estimate leaves out (``LEAVES_OUT``), and the endpoint's bill beside them.
- ``diagnosis``: why a job waits (max workers 0, crash loop, throttled, starting, the queue ahead,
  a rollout, or nothing wrong), in words; ``wait_diagnosis_line`` for a command that waits.
- ``guards``: Spend guards: a profile's limits on what a job may cost in retries and time, off by
  default.
- ``job_facts``: What the console learns around a job from the management API, kept in
  ``JobRecord.facts``: the release (version, image) and GPU (type, count) of the worker that ran it,
  and, once it ended, its cost estimate (``gui.core.account.cost``).
- ``logs``: one worker's log as Server-Sent Events, resumed after a drop, each line parsed and
  redacted (``LogLine``).
- ``models``: what the API answers, as frozen records (Endpoint, Worker, Release, GpuPrice,
  billing), read tolerantly (v1 names, both forms where the spec contradicts itself).
- ``status``: one reading of an endpoint for a workers view (settings, workers, queue, diagnosis),
  its summary line and each worker's cells in words.
"""
