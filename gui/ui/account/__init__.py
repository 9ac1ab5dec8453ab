"""The account in the window: the endpoints and workers RunPod's management API (REST v2) tells
of, asked through the bridge (the engine owns the clients; the window never waits on them).

- ``workers_model``: ``WorkersModel``, the workers of one endpoint as table rows (a thin adapter
  of ``gui.core.account.status``).
- ``workers_panel``: ``WorkersPanel`` (``workersPanel``): the selected target's endpoint, its
  workers, a summary and why its jobs would wait; refreshed every few seconds while shown.
- ``endpoint_picker``: ``EndpointPicker`` (``endpointList``): the account's endpoints to pick
  one from in the Profiles dialog; load balancers listed, not pickable.
"""
