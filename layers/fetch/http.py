"""The HTTP client of the downloaders: :mod:`requests` with urllib3's retry policy.

What a polite, resumable bulk download needs:

* a ``User-Agent`` naming geo-rank and its version;
* timeouts, and retries with exponential backoff on 429, 5xx and connection failures,
  honouring ``Retry-After`` (seconds or an HTTP date): :class:`urllib3.util.Retry` mounted
  on a :class:`requests.Session` (a body cut off mid-read is retried under the same policy);
* a minimum delay between two network requests (:attr:`FetchSettings.delay_s`);
* an on-disk cache of successful responses keyed by method, URL and a hash of the body, so
  an interrupted run resumes where it stopped and a rerun makes no request at all (plain
  files, streamed to their destination; requests-cache keeps responses in a database);
* a pluggable *transport* (the function that makes the requests adapter), so tests replay
  recorded responses below urllib3's retry loop instead of touching the network.

Failures end in :class:`~layers.errors.DataSourceError` with a one-line message that names
the URL and the HTTP status or reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import InvalidHeader, MaxRetryError, ProtocolError
from urllib3.util.retry import Retry

from layers.errors import DataSourceError
from layers.fetch._common import atomic_open, package_version
from layers.fetch.settings import FetchSettings

log = logging.getLogger(__name__)

#: Statuses worth another try: rate limited, or a server/gateway in trouble.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Both verbs are retried: the POSTs we send (Overpass queries) only read.
RETRY_METHODS = frozenset({"GET", "POST"})
_CHUNK = 1 << 20

#: Makes the requests transport adapter that carries a retry policy (tests pass a replay).
Transport = Callable[[Retry], HTTPAdapter]


def user_agent() -> str:
    """``geo-rank/<version> (...)``: what every request says it is."""
    return f"geo-rank/{package_version()} (site-selection data fetch; python-requests)"


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


class _Policy(Retry):
    """urllib3's :class:`Retry` with geo-rank's schedule and an injectable sleep.

    The wait before retry *n* is ``backoff_factor * 2**(n-1)`` (urllib3 retries the first
    time at once; a rate-limited public server deserves the pause), or what ``Retry-After``
    asks when that is longer, capped at ``backoff_max``. Each wait goes through ``on_retry``
    (which logs, counts and sleeps) instead of :func:`time.sleep`.
    """

    on_retry: Callable[[_Policy, float], None] | None = None

    def new(self, **kw: Any) -> _Policy:
        policy = super().new(**kw)
        policy.on_retry = self.on_retry
        return policy

    def get_backoff_time(self) -> float:
        if not self.history:
            return 0.0
        return float(min(self.backoff_max, self.backoff_factor * 2 ** (len(self.history) - 1)))

    def sleep(self, response: Any = None) -> None:
        retry_after = None
        if response is not None and self.respect_retry_after_header:
            try:
                retry_after = self.get_retry_after(response)
            except InvalidHeader:  # "Retry-After: soon": fall back to the backoff
                retry_after = None
        wait = min(max(self.get_backoff_time(), retry_after or 0.0), self.backoff_max)
        if self.on_retry is not None:
            self.on_retry(self, wait)
        elif wait > 0:
            time.sleep(wait)


def _adapter(retry: Retry) -> HTTPAdapter:
    """The real transport: requests' adapter over urllib3's connection pools."""
    return HTTPAdapter(max_retries=retry)


class HttpClient:
    """GET/POST with politeness, retries and an on-disk cache.

    Parameters
    ----------
    settings
        Delay, timeout, retries, backoff and cache folder (:class:`FetchSettings`).
    transport
        Makes the :class:`requests.adapters.HTTPAdapter` (given the retry policy) that
        performs the exchanges; tests pass one that replays recorded answers.
    sleep, clock
        Injected so tests neither sleep nor depend on the wall clock.
    """

    def __init__(self, settings: FetchSettings | None = None, transport: Transport | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = s = settings or FetchSettings()
        self.sleep, self.clock = sleep, clock
        self.retry = _Policy(
            total=s.max_retries, connect=None, read=None, status=None, other=None,
            allowed_methods=RETRY_METHODS, status_forcelist=RETRY_STATUSES,
            backoff_factor=s.backoff_s, backoff_max=s.max_backoff_s,
            respect_retry_after_header=True, raise_on_status=False)
        self.retry.on_retry = self._on_retry
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": user_agent(), "Accept": "*/*"})
        adapter = (transport or _adapter)(self.retry)
        for prefix in ("https://", "http://"):
            self.session.mount(prefix, adapter)
        #: Attempts that went to the network (cache hits excluded), for logs and tests.
        self.network_requests = 0
        self._attempts = 0
        self._current: Request | None = None
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

    def _on_retry(self, policy: _Policy, wait: float) -> None:
        """Before each retry (urllib3's or a broken body's): log, count, wait."""
        last = policy.history[-1] if policy.history else None
        why = (f"HTTP {last.status}" if last is not None and last.status
               else _reason(last.error) if last is not None and last.error else "failed")
        r = self._current
        log.warning("%s %s: %s; retry %d/%d in %.0f s", r.method if r else "", r.url if r else "",
                    why, len(policy.history), self.settings.max_retries, wait)
        if wait > 0:
            self.sleep(wait)
        self.network_requests += 1
        self._attempts += 1

    def _give_up(self, request: Request, failure: str) -> DataSourceError:
        return DataSourceError(
            f"{request.method} {request.url} failed: {failure} (after {self._attempts} "
            "attempts); retry later or slow down with --delay-s (responses already fetched "
            "are cached)")

    def _retrieve(self, request: Request, target: Path, missing_ok: bool) -> bool:
        """Stream one request's body into ``target``; False for a missing file."""
        self._current, self._attempts = request, 1
        self.network_requests += 1
        policy: Retry = self.retry
        while True:
            self._wait_politely()
            log.info("%s %s", request.method, request.url)
            try:
                return self._exchange(request, target, missing_ok)
            except _BodyError as exc:  # urllib3 retries up to the headers; the body is ours
                broken = exc.__cause__
            finally:
                self._last_exchange = self.clock()
            try:
                policy = policy.increment(request.method, request.url,
                                          error=ProtocolError("body", broken))
            except MaxRetryError:
                raise self._give_up(request, "connection broke while reading: "
                                             f"{_reason(broken)}") from None
            policy.sleep()

    def _exchange(self, request: Request, target: Path, missing_ok: bool) -> bool:
        """One request (urllib3 retries inside it): True when stored, False when missing."""
        headers = {"Content-Type": request.content_type} if request.content_type else None
        try:
            resp = self.session.request(request.method, request.url, data=request.body,
                                        headers=headers, timeout=self.settings.timeout_s,
                                        stream=True)
        except requests.RequestException as exc:
            raise self._give_up(request, _reason(exc)) from None
        with resp:
            if 200 <= resp.status_code < 300:
                _stream(resp, target)
                return True
            if resp.status_code in (404, 410) and missing_ok:
                return False
            failure = f"HTTP {resp.status_code} {resp.reason or ''}".strip()
            if resp.status_code in RETRY_STATUSES:
                raise self._give_up(request, failure)
            raise DataSourceError(f"{request.method} {request.url} failed: {failure}; "
                                  "check the URL setting and the parameters")


class _BodyError(Exception):
    """The connection broke while the body was being read (retried like a 5xx)."""


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _reason(exc: BaseException | None) -> str:
    """The innermost cause of a requests/urllib3 error, on one line."""
    if exc is None:
        return "unknown error"
    for _ in range(10):  # ConnectionError(MaxRetryError(reason=ProtocolError(msg, OSError)))
        inner = (exc.reason if isinstance(exc, MaxRetryError)
                 else exc.args[-1] if exc.args and isinstance(exc.args[-1], BaseException)
                 else exc.__cause__)
        if not isinstance(inner, BaseException):
            break
        exc = inner
    return _one_line(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


def _stream(resp: requests.Response, target: Path) -> None:
    """Copy the body into ``target`` atomically; read failures become :class:`_BodyError`."""
    try:
        with atomic_open(target) as out:
            chunks = resp.iter_content(_CHUNK)
            while True:
                try:
                    chunk = next(chunks, b"")
                except (requests.RequestException, Urllib3Error, OSError) as exc:
                    raise _BodyError() from exc
                if not chunk:
                    break
                out.write(chunk)
    except _BodyError:
        raise
    except OSError as exc:
        raise DataSourceError(f"cannot write {target}: {_one_line(exc)}") from exc
