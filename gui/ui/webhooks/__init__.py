"""The webhook log (stored deliveries, newest first), the listener's settings dialog, and what the
window knows of the engine's listener.

- ``listener_state``: The window's side of the engine's webhook listener: what the engine last said
  of it, the window's requests to start, change or renew it, and the deliveries it stored, read
  from the history file (``DeliveryReader``).
- ``log``: The webhook log (``webhookLogView``, in the ``webhookLog`` tab): stored deliveries,
  newest first.
- ``settings``: Webhooks > Listener settings: the listener's port, bind host and public URL
  (saved in QSettings; none of them is a secret), regenerating its token, and copying its webhook
  URL.
"""
