"""The engine: one asyncio loop on a thread of its own that owns everything that waits, the jobs
it follows and what happens to them, when to ask about each, and how news changes a job.

- ``account_clients``: The management API clients, one per account (URL and key), closed with the
  engine.
- ``commit_gate``: Waiting on the engine loop until the job history has reached the disk.
- ``engine``: The engine: one asyncio loop on one background thread that owns everything that waits.
- ``guards``: Applying the spend guards (``gui.core.account.guards``) to the jobs the engine
  follows.
- ``job_facts``: Recording what the console learns around each job it follows
  (``JobRecord.facts``): the release and GPU of the worker that runs it, and its cost estimate once
  it ended.
- ``jobs``: The loop-side half of the engine: every job's record, and what happens to it.
- ``leases``: Several consoles on one data folder: who follows which job.
- ``log_follow``: Following the log streams of the workers that run this console's jobs, and
  keeping each job's lines with it (``JobStore.save_logs``), so they outlive the worker.
- ``loop_thread``: An asyncio event loop on a thread of its own, made on that thread.
- ``merge``: How news of a job (a poll, a submit answer, a webhook delivery) changes its record.
- ``process``: The engine in a process of its own: the messages to and from it, and the
  client that starts it.
- ``settings``: What the engine reads of ``profiles.json`` while it runs: a profile's spend guards
  and its management API's URL, re-read at most every ``max_age_s`` (a change made in the Profiles
  dialog or with ``job-console profile`` applies within seconds, without a file read per status
  answer).
- ``shared_view``: What other consoles on the data folder changed, read cheaply and often.
- ``tracker``: When to ask about each job: one scheduler for every tracked job.
- ``webhook_watch``: Noticing webhooks that never came.
"""
