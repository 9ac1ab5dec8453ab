"""A fake RunPod endpoint over loopback HTTP, for the connection check (CLI and Profiles dialog)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GOOD_KEY = "key-that-works"


class FakeEndpoint(BaseHTTPRequestHandler):
    """/v2/e1/health for the good key; 401 for another key; 404 for other endpoints."""

    def do_GET(self) -> None:
        if self.path != "/v2/e1/health":
            self._answer(404, {"error": "not found"})
        elif self.headers.get("Authorization") != f"Bearer {GOOD_KEY}":
            self._answer(401, {"error": "Unauthorized"})
        else:
            health = {"jobs": {"inQueue": 2, "inProgress": 1}, "workers": {"idle": 3}}
            self._answer(200, health)

    def _answer(self, code: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def fake_endpoint_url() -> Iterator[str]:
    """The ``/v2`` base URL of a running FakeEndpoint, stopped after the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v2"
    finally:
        server.shutdown()
        server.server_close()
