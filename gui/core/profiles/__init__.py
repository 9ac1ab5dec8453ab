"""Where requests go and with which secrets: profiles (``profiles.json``, never a secret), the
OS keyring, and S3 credential sets referenced from request bodies.

- ``profiles``: Profiles: named targets kept in ``profiles.json`` (names, kinds, ids, URLs; never a
  secret).
- ``s3refs``: S3 credential sets, and the references that stand for their secret inside request
  bodies.
- ``secrets``: Secrets live in the OS keyring under one service, and nowhere else.
"""
