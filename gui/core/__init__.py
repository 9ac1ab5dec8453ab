"""The engine: pure Python and asyncio. Nothing here imports Qt (a test enforces it)."""
