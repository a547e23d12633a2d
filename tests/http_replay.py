"""Recorded HTTP answers for the fetch tests, replayed below urllib3's retry loop.

:class:`Replay` is a transport for :class:`layers.fetch.HttpClient`: it makes a requests
adapter whose connection pools are urllib3's own (so :class:`urllib3.util.Retry` decides
what is retried, how long to wait and when to give up) but whose connections never open a
socket: each ``request`` is checked against the next expected :class:`Exchange` and
``getresponse`` answers with its recorded status, headers and body.
"""

from __future__ import annotations

import io
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool
from urllib3.connection import HTTPConnection
from urllib3.response import HTTPResponse
from urllib3.util.retry import Retry

from layers.fetch import Request

REASONS = {200: "OK", 404: "Not Found", 410: "Gone", 429: "Too Many Requests",
           500: "Internal Server Error", 503: "Service Unavailable"}


@dataclass
class Exchange:
    """One expected request and the recorded answer (``answer`` may be an OSError to raise)."""

    method: str
    url: str
    fields: dict[str, str] | None = None  # query parameters (GET) or form fields (POST)
    status: int = 200
    answer: bytes | OSError = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: The connection breaks after this many bytes of the body (None: it does not).
    cut_after: int | None = None


class _CutBody(io.BytesIO):
    """A body whose connection breaks after ``limit`` bytes."""

    def __init__(self, data: bytes, limit: int) -> None:
        super().__init__(data)
        self.limit = limit

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() >= self.limit:
            raise ConnectionResetError(104, "Connection reset by peer")
        want = self.limit - self.tell() if size is None or size < 0 else size
        return super().read(min(want, self.limit - self.tell()))


class Replay:
    """Asserts the requests made, in order, and replays the recorded answers.

    ``seen`` holds each request as a :class:`layers.fetch.Request` with its headers.
    """

    def __init__(self, *exchanges: Exchange) -> None:
        self.pending = list(exchanges)
        self.seen: list[tuple[Request, dict[str, str]]] = []

    def __call__(self, retry: Retry) -> HTTPAdapter:
        """The transport: a requests adapter carrying ``retry`` over replaying pools."""
        return _ReplayAdapter(self, max_retries=retry)

    def done(self) -> bool:
        return not self.pending

    def answer(self, method: str, url: str, body: bytes | None,
               headers: dict[str, str]) -> HTTPResponse:
        assert self.pending, f"unexpected request {method} {url}"
        ex = self.pending.pop(0)
        self.seen.append((Request(method, url, body), headers))
        base, _, query = url.partition("?")
        assert (method, base) == (ex.method, ex.url)
        if ex.fields is not None:
            raw = query if method == "GET" else (body or b"").decode()
            got = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
            assert got == {k: str(v) for k, v in ex.fields.items()}
        if isinstance(ex.answer, OSError):
            raise ex.answer
        body_io = io.BytesIO(ex.answer) if ex.cut_after is None else _CutBody(ex.answer,
                                                                               ex.cut_after)
        return HTTPResponse(body=body_io, headers=ex.headers, status=ex.status,
                            reason=REASONS.get(ex.status, ""), preload_content=False,
                            decode_content=False, request_method=method, request_url=url)


class _ReplayConnection(HTTPConnection):
    """A connection that never opens a socket: it hands the request to the replay."""

    replay: Replay
    origin: str  # scheme://host[:port] of the pool

    def __init__(self, host: str, port: int | None = None, **_: Any) -> None:
        super().__init__(host, port)
        self._pending: HTTPResponse | None = None

    def connect(self) -> None:  # pragma: no cover - never called: request() is replaced
        raise AssertionError("the replay opened a socket")

    def request(self, method: str, url: str, body: Any = None,  # type: ignore[override]
                headers: Any = None, **_: Any) -> None:
        data = body.encode() if isinstance(body, str) else body
        self._pending = self.replay.answer(method, f"{self.origin}{url}", data,
                                           dict(headers or {}))

    def getresponse(self) -> HTTPResponse:  # type: ignore[override]
        response, self._pending = self._pending, None
        assert response is not None
        return response


class _ReplayAdapter(HTTPAdapter):
    """requests' adapter whose pools are urllib3's with replaying connections."""

    def __init__(self, replay: Replay, **kw: Any) -> None:
        self.replay = replay
        self.pools: dict[tuple[str, str, int | None], HTTPConnectionPool] = {}
        super().__init__(**kw)

    def get_connection_with_tls_context(self, request: Any, verify: Any, proxies: Any = None,
                                        cert: Any = None) -> HTTPConnectionPool:
        parts = urllib.parse.urlsplit(request.url)
        key = (parts.scheme, parts.hostname or "", parts.port)
        if key not in self.pools:
            conn_cls = type("Conn", (_ReplayConnection,),
                            {"replay": self.replay,
                             "origin": f"{parts.scheme}://{parts.netloc}"})
            pool_cls = type("Pool", (HTTPConnectionPool,),
                            {"ConnectionCls": conn_cls, "scheme": parts.scheme})
            self.pools[key] = pool_cls(parts.hostname or "", parts.port)
        return self.pools[key]
