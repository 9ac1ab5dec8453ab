"""Talking to one RunPod queue endpoint (or the sandbox, or a local worker): the client, its
transport, the rate limits it keeps, RunPod's answers as records, and the connection check.

- ``answers``: RunPod's answers as typed records, and HTTP failures as the console's errors.
- ``client``: An async client for one RunPod Serverless queue endpoint (or the sandbox, or a local
  worker).
- ``connection_check``: 'Test connection' for a profile: one harmless request, and a plain sentence
  about what happened.
- ``ratelimit``: A client-side limiter that keeps the console under RunPod's published rate limits.
- ``transport``: An httpx transport that does its I/O with aiohttp.
"""
