"""The engine in a process of its own (``job-console engine``): what crosses the pipe between a
window and its engine, and the client that starts the process and speaks it.

- ``remote``: ``RemoteEngine``, every engine command the window uses (``gui.ui.bridge.EngineLike``)
  served by a process of its own (``job-console engine``): jobs, endpoints and the account (a
  typed key asked for off the caller's thread), the webhook listener; its job and delivery events.
- ``server``: ``EngineServer``, the engine process's side: it serves an ``Engine`` over the wire
  (commands answered as their futures end, ``ping`` at once, job and delivery events coalesced);
  the hidden verb ``gui.commands.engine`` sets the process up and runs it.
- ``wire``: The messages between a window and its engine process: JSON lines over the child's
  stdin and stdout, the commands, and how job records, targets and errors cross.
- ``answers``: How the account's answers (connection check, endpoints, endpoint status, wait
  diagnosis) and the listener's settings and state cross.
"""
