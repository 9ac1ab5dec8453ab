"""The webhook log (stored deliveries, newest first) and the listener's settings dialog.

- ``log``: The webhook log (``webhookLogView``, in the ``webhookLog`` tab): stored deliveries,
  newest first.
- ``settings``: Webhooks > Listener settings: the embedded listener's port, bind host and public URL
  (saved in QSettings; none of them is a secret), regenerating its token, and copying its webhook
  URL.
"""
