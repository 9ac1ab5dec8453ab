"""The account around the jobs: RunPod's REST v2 management API (endpoints, workers, logs,
releases, GPU prices, billing), as the window and the command line use it.

- ``access``: which management URL and which key to use for a profile, or why there is none.
"""
