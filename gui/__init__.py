"""RunPod Job Console: a desktop console for jobs on RunPod Serverless endpoints."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
