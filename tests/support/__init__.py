"""What the tests share. Test modules and conftests import from here; no test module imports
another test module or a conftest, and conftests hold only fixtures.

- ``waiting``: ``wait_until`` (poll a condition until it holds, from any thread) and
  ``wait_until_async`` (the same inside a test's own asyncio loop). The one way to wait for
  another thread or process; never a fixed sleep before asserting.
- ``memory_keyring``: ``MemoryKeyring``, the in-process keyring ``tests/conftest.py`` installs
  for every test (the ``memory_keyring`` fixture hands it over).
- ``fake_endpoint``: ``FakeEndpoint`` and ``fake_endpoint_url()``, a RunPod endpoint over loopback
  that answers ``/health`` for ``GOOD_KEY`` (connection checks: CLI and Profiles dialog).
- ``listener_helpers``: the webhook listener's test steps: ``TOKEN``, ``COMPLETED``, ``serving``
  and ``Served`` (a listener in the test's loop), ``ThreadedListener`` (on a loop thread, as in
  the engine), ``post``, ``run``, and the raw-socket ``head`` and ``read_until_closed``.
- ``sandbox_helpers``: ``StartSandbox`` (the type of the ``start_sandbox`` fixture in
  ``tests/sandbox/conftest.py``) and ``wait_status``.
- ``engine_fixtures``: a real Engine with its built-in sandbox (``running_engine``, and the
  ``engine`` and ``sandbox`` fixtures), and ``watch_held_jobs``: the most jobs the engines of a
  command held at once (``HeldJobs``).
- ``jobs_factory``: job records shaped like the engine's snapshots, for UI tests.
- ``request_helpers``: the request panel and the whole window for UI tests, waiting on Qt events.
"""
