"""The engine in a process of its own (``job-console engine``): what crosses the pipe between a
window and its engine, and the client that starts the process and speaks it.

- ``remote``: ``RemoteEngine``, the engine's commands and events served by a process of its own
  (``job-console engine``), for the window (issue 17; the window does not use it yet).
- ``wire``: The messages between a window and its engine process: JSON lines over the child's
  stdin and stdout, and how job records, targets and errors cross.
"""
