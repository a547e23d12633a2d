"""A tiny HTTP client over :mod:`urllib.request` for the downloaders.

It adds what a polite, resumable bulk download needs and nothing more:

* a ``User-Agent`` naming geo-rank and its version;
* timeouts, and retries with exponential backoff on 429, 5xx and connection failures,
  honouring ``Retry-After`` (seconds or an HTTP date);
* a minimum delay between two network requests (:attr:`FetchSettings.delay_s`);
* an on-disk cache of successful responses keyed by method, URL and a hash of the body, so
  an interrupted run resumes where it stopped and a rerun makes no request at all;
* a pluggable *transport* (the function that performs one exchange), so tests replay recorded
  responses instead of touching the network.

Failures end in :class:`~layers.errors.DataSourceError` with a one-line message that names
the URL and the HTTP status or reason.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import http.client
import json
import logging
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

from layers.errors import DataSourceError
from layers.fetch._common import atomic_open, package_version
from layers.fetch.settings import FetchSettings

log = logging.getLogger(__name__)

#: Statuses worth another try: rate limited, or a server/gateway in trouble.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_CHUNK = 1 << 20


def user_agent() -> str:
    """``geo-rank/<version> (...)``: what every request says it is."""
    return f"geo-rank/{package_version()} (site-selection data fetch; Python-urllib)"


@dataclass(frozen=True)
class Request:
    """One HTTP request; its :attr:`key` names its cached response."""

    method: str
    url: str
    body: bytes | None = None
    content_type: str | None = None

    @classmethod
    def get(cls, url: str, params: Mapping[str, str | int] | None = None) -> Request:
        """A GET of ``url`` with ``params`` encoded into the query string."""
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(params)}"
        return cls("GET", url)

    @classmethod
    def post_form(cls, url: str, fields: Mapping[str, str]) -> Request:
        """A POST of ``fields`` as ``application/x-www-form-urlencoded``."""
        body = urllib.parse.urlencode(fields).encode("utf-8")
        return cls("POST", url, body, "application/x-www-form-urlencoded")

    @property
    def key(self) -> str:
        """SHA-256 of method, URL and the body's SHA-256 (headers do not change the answer)."""
        body_hash = hashlib.sha256(self.body or b"").hexdigest()
        return hashlib.sha256(f"{self.method}\n{self.url}\n{body_hash}".encode()).hexdigest()


@dataclass
class Response:
    """What a transport returns: status, lower-cased headers and a readable body."""

    status: int
    reason: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: BinaryIO | None = None

    def close(self) -> None:
        if self.body is not None:
            self.body.close()


class Transport(Protocol):
    """Performs one exchange; raises :class:`OSError` when no HTTP answer came back."""

    def __call__(self, request: Request, headers: Mapping[str, str],
                 timeout_s: float) -> Response: ...


def urllib_transport(request: Request, headers: Mapping[str, str],
                     timeout_s: float) -> Response:
    """The real transport: one :func:`urllib.request.urlopen` call (follows redirects)."""
    all_headers = dict(headers)
    if request.content_type:
        all_headers["Content-Type"] = request.content_type
    req = urllib.request.Request(request.url, data=request.body, headers=all_headers,
                                 method=request.method)
    try:
        resp = urllib.request.urlopen(req, timeout=timeout_s)
    except urllib.error.HTTPError as err:  # an HTTP answer with an error status
        hdrs = {k.lower(): v for k, v in (err.headers or {}).items()}
        body = cast(BinaryIO, err) if err.fp is not None else None
        return Response(err.code, str(err.reason), hdrs, body)
    return Response(resp.status, resp.reason, {k.lower(): v for k, v in resp.headers.items()},
                    resp)


class _BodyError(Exception):
    """The connection broke while the body was being read (retried like a 5xx)."""


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def retry_after_s(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date).

    >>> retry_after_s("7")
    7.0
    >>> retry_after_s("Wed, 21 Oct 2015 07:28:30 GMT",
    ...               now=dt.datetime(2015, 10, 21, 7, 28, tzinfo=dt.UTC))
    30.0
    >>> retry_after_s("soon") is None
    True
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


class HttpClient:
    """GET/POST with politeness, retries and an on-disk cache.

    Parameters
    ----------
    settings
        Delay, timeout, retries, backoff and cache folder (:class:`FetchSettings`).
    transport
        Performs one exchange; default :func:`urllib_transport`. Tests pass a replay.
    sleep, clock
        Injected so tests neither sleep nor depend on the wall clock.
    """

    def __init__(self, settings: FetchSettings | None = None, transport: Transport | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings or FetchSettings()
        self.transport: Transport = transport or urllib_transport
        self.sleep, self.clock = sleep, clock
        self.headers = {"User-Agent": user_agent(), "Accept": "*/*"}
        #: Requests that went to the transport (cache hits excluded), for logs and tests.
        self.network_requests = 0
        self._last_exchange: float | None = None

    # --- public ---------------------------------------------------------------------------
    def fetch(self, request: Request, *, missing_ok: bool = False) -> bytes | None:
        """The response body; ``None`` for a 404/410 when ``missing_ok``."""
        if self.settings.use_cache:
            path = self.cache_path(request)
            if not self._cached_or_retrieved(request, path, missing_ok):
                return None
            return path.read_bytes()
        with tempfile.TemporaryDirectory(prefix="geo-rank-fetch-") as tmp:
            path = Path(tmp) / "body"
            if not self._retrieve(request, path, missing_ok):
                return None
            return path.read_bytes()

    def download(self, request: Request, dest: Path, *, missing_ok: bool = False) -> Path | None:
        """Stream the response body to ``dest`` (atomically); ``None`` for a missing file."""
        if not self.settings.use_cache:
            return dest if self._retrieve(request, dest, missing_ok) else None
        path = self.cache_path(request)
        if not self._cached_or_retrieved(request, path, missing_ok):
            return None
        try:
            with open(path, "rb") as src, atomic_open(dest) as out:
                shutil.copyfileobj(src, out, _CHUNK)
        except OSError as exc:
            raise DataSourceError(f"cannot write {dest}: {_one_line(exc)}") from exc
        return dest

    def fetch_json(self, request: Request, what: str, fix: str) -> Any:
        """The parsed JSON body of ``request``.

        An answer that is not JSON (an HTML error page, a proxy's notice) is dropped from the
        cache and reported as ``"<what> did not answer JSON (starts ...); <fix>"``.
        """
        body = self.fetch(request)
        assert body is not None  # missing_ok is False
        try:
            return json.loads(body)
        except ValueError:
            self.forget(request)
            raise DataSourceError(
                f"{what} did not answer JSON (starts {body[:60]!r}); {fix}") from None

    def forget(self, request: Request) -> None:
        """Drop a cached response (one that answered 200 but carried an error)."""
        self.cache_path(request).unlink(missing_ok=True)

    def cache_path(self, request: Request) -> Path:
        key = request.key
        return self.settings.cache_dir / "http" / key[:2] / f"{key}.body"

    # --- private --------------------------------------------------------------------------
    def _cached_or_retrieved(self, request: Request, path: Path, missing_ok: bool) -> bool:
        if path.is_file():
            log.debug("cache hit %s %s (%s)", request.method, request.url, path.name)
            return True
        return self._retrieve(request, path, missing_ok)

    def _wait_politely(self) -> None:
        if self._last_exchange is None:
            return
        gap = self.settings.delay_s - (self.clock() - self._last_exchange)
        if gap > 0:
            self.sleep(gap)

    def _retrieve(self, request: Request, target: Path, missing_ok: bool) -> bool:
        """Stream one request's body into ``target``, retrying; False for a missing file."""
        s = self.settings
        attempts = s.max_retries + 1
        for attempt in range(attempts):
            self._wait_politely()
            self.network_requests += 1
            log.info("%s %s", request.method, request.url)
            try:
                outcome, failure, retry_after = self._exchange(request, target, missing_ok)
            finally:
                self._last_exchange = self.clock()
            if outcome is not None:
                return outcome
            if attempt + 1 < attempts:
                wait = min(max(s.backoff_s * 2**attempt, retry_after or 0.0), s.max_backoff_s)
                log.warning("%s %s: %s; retry %d/%d in %.0f s", request.method, request.url,
                            failure, attempt + 1, s.max_retries, wait)
                self.sleep(wait)
        raise DataSourceError(
            f"{request.method} {request.url} failed: {failure} (after {attempts} attempts); "
            "retry later or slow down with --delay-s (responses already fetched are cached)"
        )

    def _exchange(self, request: Request, target: Path,
                  missing_ok: bool) -> tuple[bool | None, str, float | None]:
        """One attempt: (True/False when done, else None; the failure; Retry-After)."""
        try:
            resp = self.transport(request, self.headers, self.settings.timeout_s)
        except (OSError, http.client.HTTPException) as exc:
            return None, _reason(exc), None
        try:
            if 200 <= resp.status < 300:
                try:
                    _stream(resp, target)
                except _BodyError as exc:
                    return None, f"connection broke while reading: {_reason(exc.__cause__)}", None
                return True, "", None
            if resp.status in (404, 410) and missing_ok:
                return False, "", None
            failure = f"HTTP {resp.status} {resp.reason}".strip()
            if resp.status not in RETRY_STATUSES:
                raise DataSourceError(
                    f"{request.method} {request.url} failed: {failure}; "
                    "check the URL setting and the parameters"
                )
            return None, failure, retry_after_s(resp.headers.get("retry-after"))
        finally:
            resp.close()


def _reason(exc: BaseException | None) -> str:
    if isinstance(exc, urllib.error.URLError):
        return _one_line(exc.reason)
    return _one_line(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


def _stream(resp: Response, target: Path) -> None:
    """Copy the body into ``target`` atomically; read failures become :class:`_BodyError`."""
    try:
        with atomic_open(target) as out:
            while resp.body is not None:
                try:
                    chunk = resp.body.read(_CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise _BodyError() from exc
                if not chunk:
                    break
                out.write(chunk)
    except _BodyError:
        raise
    except OSError as exc:
        raise DataSourceError(f"cannot write {target}: {_one_line(exc)}") from exc
