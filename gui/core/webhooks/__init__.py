"""RunPod's webhook deliveries: the listener that receives them, the reading of one delivery,
where the listener binds, and the history of deliveries.

- ``address``: Where the webhook listener binds and the address RunPod is given: the defaults, the
  saved settings, and the checks on a host and a public URL.
- ``console_listener``: A console's webhook listener (the engine's, and ``job-console listen``'s):
  token from the keyring, delivery store, port fallback, one listener per port for a data folder.
- ``deliveries``: The history of webhook deliveries: every POST the listener accepted, kept in
  ``jobs.sqlite3``.
- ``intake``: What a webhook body is: parsed strictly, classified, and cleaned of the listener's
  token.
- ``listener``: The webhook listener: receives RunPod's deliveries (RUNPOD_API.md §5) over HTTP on
  loopback.
- ``replay``: A stored delivery POSTed again to a URL the person gives, from the engine's loop.
"""
