"""The engine side: pure Python and asyncio; it imports no Qt, no ``gui.ui``, no ``gui.sandbox``.

The root holds the shared vocabulary every part speaks: ``errors`` (the one exception tree),
``records`` (typed job records), ``events`` (what the engine tells subscribers), ``limits``
(RunPod's published numbers), ``targets`` (where a request goes), ``redact`` (secrets out of
bodies), ``paths`` and ``files`` (the data folder, atomic writes), ``resources``, ``wording``.

The features, one package each (read its ``__init__`` for its map):

- ``request``: a request text checked against JSON and RunPod's rules, with positions.
- ``endpoint``: the queue API client, its transport, rate limits and answers.
- ``engine``: the Engine, its loop thread, the jobs it follows, the tracker, merging news.
- ``storage``: the SQLite job history, templates, export and snippets.
- ``webhooks``: the webhook listener, the reading of deliveries, their history.
- ``profiles``: profiles, the keyring, S3 credential sets.
"""
