"""An httpx transport that does its I/O with aiohttp.

Why: httpcore 1.0's connection pool re-examines every pooled connection (a socket poll each) every
time a request starts or ends, so its cost grows with the square of the requests in flight;
following thousands of jobs, it spent most of the engine's time there (1,000 POSTs to a loopback
server: 2 to 7 s through httpcore, 0.3 s through aiohttp's connector). The engine keeps httpx's
client (request building, timeouts, ``MockTransport`` in tests) and swaps only the transport;
aiohttp is already a dependency (the servers).

Exceptions are mapped to httpx's, keeping the one distinction the client's retry rules need:
``httpx.ConnectError``/``ConnectTimeout`` mean the request never left.

Why not the ``httpx-aiohttp`` package (0.2.0, measured against ours for issue 15):
it is as fast, but it breaks that distinction. ``bench_tracking.py --transports`` (our engine
following jobs on the sandbox, 500 workers, 0.5 s jobs; 2 cores shared with other work, so wall
times spread by up to half their median; client CPU per job is the steadier figure):

- 2,000 jobs, medians of 3 rounds: ours 2.73 s (1.28 ms CPU/job); httpx-aiohttp 2.86 s, 1.05x
  (1.31 ms, 1.02x); httpx's own transport (httpcore) 34.1 s, 12.5x (13.4 ms, 10.4x).
- 10,000 jobs, medians of 5 rounds: ours 18.0 s, spread 6.7 s (1.12 ms CPU/job); httpx-aiohttp
  17.2 s, 0.96x, spread 14.0 s (1.19 ms, 1.06x). An earlier run of 3 rounds: 1.24x time, 0.94x
  CPU: the two differ by less than the machine's noise.

What decides it is the error mapping: it maps every ``aiohttp.ClientConnectionError`` to
``httpx.ConnectTimeout``, which includes a server that closed or reset the connection *after* the
body was sent (``ServerDisconnectedError``, ``ClientOSError``). The client reads ConnectTimeout as
"never left" and sends a /run again: a job queued by a server that then dropped the connection
runs (and bills) up to four times (``test_a_dropped_run_is_uncertain_and_sent_once...`` fails
with it, closed or reset). It also reports a refused connection as a ConnectTimeout; raises a bare
``RuntimeError`` for a request after ``aclose`` (ours opens a new session); sends aiohttp's
User-Agent; and, used as a transport under our client rather than through its ``AsyncClient``,
ignores HTTP(S)_PROXY. Wrapping it to re-map its errors would need as much code as this module.
"""

from __future__ import annotations

import ssl
import urllib.request
from typing import Any

import aiohttp
import httpx

__all__ = ["AiohttpTransport"]


class AiohttpTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncClient(transport=AiohttpTransport(max_connections=N))``; one per client."""

    def __init__(self, *, max_connections: int = 100, keepalive_s: float = 15.0) -> None:
        self._max_connections = max_connections
        self._keepalive_s = keepalive_s
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    def _session_for_loop(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                limit_per_host=self._max_connections,
                keepalive_timeout=self._keepalive_s,
                ssl=_tls_context(),
            )
            # httpx decodes content-encoding itself: aiohttp must hand over the raw bytes.
            # Not trust_env: it reads the environment and ~/.netrc again for every request
            # (half a millisecond each); proxies are looked up once per host instead.
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, skip_auto_headers=("User-Agent",)
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=_sum(timeouts.get("pool"), timeouts.get("connect")),
            sock_connect=timeouts.get("connect"),
            sock_read=timeouts.get("read"),
        )
        body = await request.aread()
        session = self._session_for_loop()
        try:
            async with session.request(
                request.method,
                str(request.url),
                headers=list(request.headers.multi_items()),
                data=body or None,
                timeout=timeout,
                proxy=self._proxy_for(request.url),
                allow_redirects=False,
            ) as answer:
                content = await answer.read()
                return httpx.Response(
                    status_code=answer.status,
                    headers=[
                        (k.decode("latin-1"), v.decode("latin-1")) for k, v in answer.raw_headers
                    ],
                    content=content,
                    request=request,
                )
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc) or "connection failed", request=request) from exc
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout("timed out connecting", request=request) from exc
        except (TimeoutError, aiohttp.SocketTimeoutError) as exc:
            raise httpx.ReadTimeout("timed out waiting for the answer", request=request) from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise httpx.RemoteProtocolError(
                "the server closed the connection without an answer", request=request
            ) from exc
        except (aiohttp.ClientPayloadError, aiohttp.ClientResponseError) as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        except aiohttp.ClientOSError as exc:
            raise httpx.ReadError(str(exc) or "connection reset", request=request) from exc

    def _proxy_for(self, url: httpx.URL) -> str | None:
        """The proxy from HTTP(S)_PROXY / NO_PROXY for this host, as httpx would use it."""
        key = (url.scheme, url.host)
        if key not in self._proxies:
            self._proxies[key] = _env_proxy(url.scheme, url.host)
        return self._proxies[key]

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _env_proxy(scheme: str, host: str) -> str | None:
    proxies = urllib.request.getproxies()
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    return proxy


def _tls_context() -> ssl.SSLContext:
    """Verify servers against certifi's CA bundle, as httpx does: a bundled app or a Python
    without system certificates still reaches api.runpod.ai."""
    import certifi  # httpx's own dependency

    return ssl.create_default_context(cafile=certifi.where())


def _sum(first: float | None, second: float | None) -> float | None:
    if first is None or second is None:
        return None
    return first + second
