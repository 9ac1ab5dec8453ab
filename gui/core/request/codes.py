"""Codes of the validation rules a caller may want to tell apart (no heavy imports here)."""

from __future__ import annotations

__all__ = ["UNREACHABLE_WEBHOOK"]

UNREACHABLE_WEBHOOK = "unreachable-webhook"
"""A webhook on localhost or a private address: RunPod's cloud can't reach it. The built-in
sandbox and a local worker can, so the window leaves this warning out for those targets."""
