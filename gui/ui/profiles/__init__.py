"""Profiles in the window: the Profiles dialog and its forms, S3 credentials, which target Submit
sends to, and local workers.

- ``dialog``: The Profiles dialog: add, edit, remove and duplicate profiles; keys go to the keyring.
- ``form``: The editor of one profile inside the Profiles dialog: its fields, shown per kind.
- ``guards``: A profile's spend guards in the Profiles dialog: three fields, each empty (or "off")
  when off.
- ``local_worker``: Local workers: a worker author's ``handler.py`` served by the console, with its
  output shown.
- ``s3_credentials``: The "S3 credentials" tab of the Profiles dialog: named S3 credential sets.
- ``target_selection``: Which target Submit sends to: the ``profileSelector`` filled from the
  profiles, resolved to a ``Target`` off the Qt thread (the built-in sandbox starts on first use; a
  local worker the console launches is usable once it serves).
- ``variables``: A profile's variables in the Profiles dialog: a small name/value table with Add
  and Remove.
"""
