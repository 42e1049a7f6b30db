"""The HTTP client for Intercom: hosts, headers, timeouts, retries and rate limits.

Its only output is an `Answer` per request: a status, the parsed JSON body (or none) and the few headers a
verdict needs, or the reason no answer came. It never follows redirects, so the token cannot be carried
to another host, and nothing it raises or returns contains the token or a piece of it: every string of an
answer is scrubbed before anything else reads it. Proxies from the environment are used only for https,
where the token travels inside the TLS tunnel; plain http (loopback only) always goes straight to the host.
How requests are paced (timeouts, retries, rate-limit windows, the `HostBreaker` that stops a run from
sending again and again to a host that has stopped answering) is `validator.pacing`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import random
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from validator.connections import http_client
from validator.errors import ExitCode, ValidatorError
from validator.network_errors import describe_failure
from validator.pacing import HostBreaker, RateGate, RetryPolicy, SlowHostNotice, Timeouts, hinted_wait
from validator.sharing import SharedRequests, identity_of, request_key
from validator.tokens import Scrubber

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_BODY_BYTES = 1024 * 1024  # Intercom's answers to these probes are a few KiB; more is not Intercom
# Error codes and request ids are shown to users and written into reports: only plain tokens pass.
_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_REQUEST_ID = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
DEFAULT_IN_FLIGHT = 16


class ApiUrlError(ValidatorError, ValueError):
    """`--api-url` / INTERCOM_API_URL is not acceptable: exit code 2."""

    exit_code = ExitCode.USAGE


def check_api_url(url: str) -> str:
    """The base URL without a trailing slash; https is required unless the host is a loopback address."""
    if not url.isprintable() or any(character.isspace() for character in url):
        raise ApiUrlError("API URL contains spaces or control characters (a stray newline from a secret?)")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number in range
        _ = httpx.URL(url).host  # IDNA errors only surface when the host is decoded
    except (ValueError, httpx.InvalidURL) as error:
        raise ApiUrlError(f"API URL {url!r} cannot be parsed: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiUrlError(f"API URL {url!r} is not an http(s) URL with a host")
    if parts.username or parts.password:
        raise ApiUrlError("API URL must not carry credentials")
    if parts.query or parts.fragment:
        raise ApiUrlError(f"API URL {url!r} must not have a query or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ApiUrlError(
            f"API URL {url!r} must use https (plain http is only accepted for loopback addresses)"
        )
    return url.rstrip("/")


def uses_environment_proxies(base_url: str) -> bool:
    """Whether requests to `base_url` may go through the proxies HTTP(S)_PROXY / ALL_PROXY name.

    Only for https: through a proxy the request then travels inside a TLS tunnel (CONNECT), so the proxy
    never sees the token. Plain http is only accepted for loopback hosts (`check_api_url`), and a proxy
    would receive such a request in clear, Authorization header included: it always goes straight to the
    host, whatever the environment says.
    """
    return urlsplit(base_url).scheme == "https"


def host_of(base_url: str) -> str:
    """`host[:port]` of a base URL, as messages name it."""
    return urlsplit(base_url).netloc.lower()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Answer:
    """What one request (after retries) came back with."""

    method: str
    path: str
    status: int | None  # None: no HTTP answer at all
    body: Any = None  # parsed JSON, or None when the body was not JSON
    body_is_json: bool = False
    request_id: str | None = None
    attempts: int = 1
    failure: str | None = None  # why there was no usable answer ("api.intercom.io: connection refused")
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def error(self) -> tuple[str | None, str | None]:
        """(code, message) of an Intercom error body: `code`, else the old `type`, else only the message."""
        if not isinstance(self.body, dict):
            return None, None
        errors = self.body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            code = first.get("code") or first.get("type")
            message = first.get("message")
            plain_code = code if isinstance(code, str) and _CODE.fullmatch(code) else None
            return plain_code, message if isinstance(message, str) else None
        message = self.body.get("message")
        return None, message if isinstance(message, str) else None

    @property
    def is_error_envelope(self) -> bool:
        return isinstance(self.body, dict) and self.body.get("type") in ("error.list", "error")

    @property
    def is_json_media_type(self) -> bool:
        """Whether the answer says it is JSON: `application/json` or a `+json` type, parameters aside."""
        media_type = self.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        return media_type == "application/json" or media_type.endswith("+json")

    @property
    def body_type(self) -> str | None:
        value = self.body.get("type") if isinstance(self.body, dict) else None
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Exchange:
    """How one attempt of a request ended, for `--verbose`: no body, no header but a plain request id."""

    method: str
    host: str
    path: str
    status: int | None  # None: no HTTP answer (then `failure` says why)
    request_id: str | None
    attempt: int
    elapsed: float  # seconds from sending to the end of the answer (or of the failure)
    failure: str | None = None

    def describe(self) -> str:
        """`GET /me → 200 from HOST (request id R, attempt 1, 12 ms)`, or `GET /me → no answer: why (…)`."""
        took = f"attempt {self.attempt}, {self.elapsed * 1000:.0f} ms"
        if self.status is None:
            return f"{self.method} {self.path} → no answer: {self.failure} ({took})"
        request_id = f"request id {self.request_id}, " if self.request_id else ""
        return f"{self.method} {self.path} → {self.status} from {self.host} ({request_id}{took})"


ExchangeObserver = Callable[[Exchange], None]


class IntercomClient:
    """An Intercom API client for one token; use as an async context manager.

    `http` is the run's one `httpx.AsyncClient` (from `http_client`), shared by every IntercomClient of the
    run so that one pool of connections and one TLS context serve them all; the token and Intercom-Version
    travel as headers of each request, and the client is not closed here. Without it the IntercomClient
    makes its own (with `transport`, for tests) and closes it on exit. `shared` is the run's memo of
    identical requests (`validator.sharing`): requests this client sends are shared with every client of
    the same token, host and version.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        api_version: str,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        gate: RateGate | None = None,
        limit: asyncio.Semaphore | None = None,
        breaker: HostBreaker | None = None,
        slow_notice: SlowHostNotice | None = None,
        on_exchange: ExchangeObserver | None = None,
        http: httpx.AsyncClient | None = None,
        shared: SharedRequests[Answer] | None = None,
    ) -> None:
        if http is not None and transport is not None:
            raise TypeError("pass a transport to http_client(), not beside a shared client")
        self.base_url = base_url
        self._retry = retry or RetryPolicy()
        timeouts = self._timeouts = timeouts or Timeouts()
        self._timeout = timeouts.as_httpx()
        # httpx's read timeout is per read: a server dripping a byte at a time would never trip it.
        self._deadline = timeouts.connect + timeouts.read
        self._sleep = sleep
        self._gate = gate or RateGate()
        # Bounds requests in flight (shared across clients); held only while a request is on the wire, never
        # during a retry's back-off, so one slow endpoint does not starve the others.
        self._limit = limit or asyncio.Semaphore(DEFAULT_IN_FLIGHT)
        self._breaker = breaker or HostBreaker.for_timeouts(host_of(base_url), timeouts)
        self._slow_notice = slow_notice  # says once, on stderr, that the host is being waited for
        self._on_exchange = on_exchange  # sees every attempt's outcome (`--verbose`), never a body
        # Server text may echo the token (a hostile or broken server): it is scrubbed before it is cut,
        # escaped or lower-cased for a report, which would leave pieces the output filter cannot recognise.
        self._scrub = Scrubber([token])
        self._prefix = base_url.rstrip("/")  # + the probe's path, as httpx joins a base URL and a path
        self._headers = {"Authorization": f"Bearer {token}", "Intercom-Version": api_version}
        self._owns_http = http is None
        self._http = http if http is not None else http_client(transport=transport)
        self._shared = shared
        self._identity = identity_of(token, base_url, api_version)
        if shared is not None:
            shared.join(self._identity)

    async def __aenter__(self) -> IntercomClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._shared is not None:
            self._shared.leave(self._identity)
            self._shared = None
        if self._owns_http:
            await self._http.aclose()

    @property
    def gate(self) -> RateGate:
        return self._gate

    def use_gate(self, gate: RateGate) -> None:
        """Pace the requests from now on by `gate` (the workspace `/me` named, once it answered)."""
        self._gate = gate

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Answer:
        """Send one request with bounded retries; never raises for network or HTTP trouble.

        With a memo of the run's requests (`shared`), an identical request already sent or on its way is not
        sent again: its answer is this one's.
        """
        if self._shared is None:
            return await self._send(method, path, query, body)
        key = request_key(method, path, query, body)
        return await self._shared.answer(self._identity, key, lambda: self._send(method, path, query, body))

    async def _send(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
    ) -> Answer:
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            held = self._gate.delay()
            if held > 0:
                if not self._can_wait(held, waited):
                    failure = f"rate limited: the window resets in {held:.0f} s, beyond the retry budget"
                    return Answer(method, path, None, attempts=attempt - 1, failure=failure)
                waited += await self._pause(held)
            response: httpx.Response | None = None
            started = [self._breaker.now()]  # reset when the attempt gets its slot
            try:
                response, content = await self._exchange(method, path, query, body, started)
            except HostDown:
                return Answer(
                    method, path, None, attempts=attempt - 1, failure=f"{self._breaker.reason}; not sent"
                )
            except (httpx.TimeoutException, TimeoutError) as error:
                failure = "cut off" if self._breaker.reason is not None else self._describe(error)
            except CompressedAnswer:
                self._breaker.answered()
                failure = "a compressed answer although none was asked for (a proxy?)"
                self._observe(method, path, attempt, started[0], failure=failure)
                return Answer(method, path, None, attempts=attempt, failure=failure)
            except AnswerTooLarge:
                self._breaker.answered()
                failure = "an answer over 1 MiB: not Intercom's"
                self._observe(method, path, attempt, started[0], failure=failure)
                return Answer(method, path, None, attempts=attempt, failure=failure)
            except httpx.HTTPError as error:
                failure = self._describe(error)
            if response is None:
                self._observe(method, path, attempt, started[0], failure=failure)
                self._breaker.failed(started[0])
                if self._breaker.reason is not None:
                    more = "; not retried" if attempt < self._retry.attempts else ""
                    failure = f"{failure}; {self._breaker.reason}{more}"
                    return Answer(method, path, None, attempts=attempt, failure=failure)
                wait = self._backoff(attempt)
                if attempt < self._retry.attempts and self._can_wait(wait, waited):
                    waited += await self._pause(wait)
                    continue
                return Answer(method, path, None, attempts=attempt, failure=failure)
            self._breaker.answered()
            self._observe(method, path, attempt, started[0], response=response)
            self._gate.observe(response.headers)
            if response.status_code in RETRYABLE_STATUSES and attempt < self._retry.attempts:
                wait = self._wait_for(response, attempt)
                if self._can_wait(wait, waited):
                    waited += await self._pause(wait)
                    continue
            return _answer(method, path, response, content, attempt, self._scrub)

    async def _exchange(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        started: list[float],
    ) -> tuple[httpx.Response, bytes]:
        """One attempt: the request and its whole body, within one deadline and the body size cap."""
        request = self._http.build_request(
            method, self._prefix + path, params=query, json=body, headers=self._headers, timeout=self._timeout
        )
        async with self._limit:
            if self._breaker.reason is not None:
                raise HostDown  # waited for a slot while the host stopped answering
            started[0] = self._breaker.now()
            async with asyncio.timeout(self._deadline) as scope:
                with self._breaker.watching(scope), self._watching_slowness():
                    return await self._receive(request)

    def _observe(
        self,
        method: str,
        path: str,
        attempt: int,
        started: float,
        *,
        response: httpx.Response | None = None,
        failure: str | None = None,
    ) -> None:
        """Tell the observer (`--verbose`) how one attempt ended: its status and request id, or why none."""
        if self._on_exchange is None:
            return
        header = response.headers.get("x-request-id") if response is not None else None
        request_id = self._scrub(header) if header is not None else None  # server text: scrubbed first
        self._on_exchange(
            Exchange(
                method=method,
                host=host_of(self.base_url),
                path=path,
                status=response.status_code if response is not None else None,
                request_id=request_id if request_id and _REQUEST_ID.fullmatch(request_id) else None,
                attempt=attempt,
                elapsed=max(0.0, self._breaker.now() - started),
                failure=failure,
            )
        )

    def _watching_slowness(self) -> contextlib.AbstractContextManager[None]:
        return self._slow_notice.watching() if self._slow_notice is not None else contextlib.nullcontext()

    async def _receive(self, request: httpx.Request) -> tuple[httpx.Response, bytes]:
        response = await self._http.send(request, stream=True)
        try:
            if response.headers.get("content-encoding", "identity").lower() != "identity":
                raise CompressedAnswer  # asked for identity; a compressed body is not read at all
            content = bytearray()
            async for chunk in response.aiter_bytes():  # identity: no decoding happens
                content += chunk
                if len(content) > MAX_BODY_BYTES:
                    raise AnswerTooLarge
        finally:
            await response.aclose()
        return response, bytes(content)

    def _describe(self, error: BaseException) -> str:
        """`host: reason` in plain words (`validator.network_errors`), naming the proxy the request went
        through, if any."""
        return describe_failure(
            error, host_of(self.base_url), self._scrub, proxy=self._proxy(), timeouts=self._timeouts
        )

    def _proxy(self) -> str | None:
        """`host:port` of the environment's proxy that requests to the API host go through, or None.

        httpx does not say it publicly: the transport it picks for the URL is asked, and anything unexpected
        there means no proxy is named (the message then names the API host alone)."""
        try:
            transport = self._http._transport_for_url(httpx.URL(self.base_url))
            proxy_url = getattr(getattr(transport, "_pool", None), "_proxy_url", None)
            if proxy_url is None:
                return None
            host = proxy_url.host.decode("ascii", "replace")
            host = f"[{host}]" if ":" in host else host  # an IPv6 address
            return f"{host}:{proxy_url.port}" if proxy_url.port else host
        except Exception:  # private API: never let it cost the message
            return None

    def _backoff(self, attempt: int) -> float:
        return float(min(self._retry.backoff_base * 2.0 ** (attempt - 1), self._retry.max_single_wait))

    def _wait_for(self, response: httpx.Response, attempt: int) -> float:
        if response.status_code == 429:
            hinted = hinted_wait(response.headers)
            if hinted is not None:
                return hinted
        return self._backoff(attempt)

    def _can_wait(self, wait: float, waited: float) -> bool:
        budget = self._retry.max_total_wait
        return budget > 0 and wait <= self._retry.max_single_wait and waited + wait <= budget

    async def _pause(self, wait: float) -> float:
        """Sleep `wait` seconds plus jitter; the time slept."""
        wait += random.uniform(0, self._retry.jitter)
        await self._sleep(wait)
        return wait


class AnswerTooLarge(Exception):
    """The body went past MAX_BODY_BYTES; reading stopped there."""


class HostDown(Exception):
    """The host's breaker is open: the request is not sent."""


class CompressedAnswer(Exception):
    """The body came compressed although `Accept-Encoding: identity` was sent; it is not decompressed."""


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate keys")  # ambiguous: which `type` would Intercom have meant?
    return dict(pairs)


def _scrubbed(value: Any, scrub: Scrubber) -> Any:
    """Parsed JSON with `scrub` applied to every string in it, keys included; in place, without recursion (the
    parser allows deeper nesting than a recursive walk would). ValueError when two keys become one."""
    root = [value]
    pending: list[list[Any] | dict[str, Any]] = [root]
    while pending:
        container = pending.pop()
        if isinstance(container, list):
            for index, item in enumerate(container):
                if isinstance(item, str):
                    container[index] = scrub(item)
                elif isinstance(item, list | dict):
                    pending.append(item)
            continue
        items = list(container.items())
        container.clear()
        for key, item in items:
            clean_key = scrub(key)
            if clean_key in container:
                raise ValueError("duplicate keys")
            if isinstance(item, str):
                item = scrub(item)
            elif isinstance(item, list | dict):
                pending.append(item)
            container[clean_key] = item
    return root[0]


def _answer(
    method: str, path: str, response: httpx.Response, content: bytes, attempts: int, scrub: Scrubber
) -> Answer:
    body: Any = None
    is_json = False
    if content:
        try:
            parsed = json.loads(content.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
            body = _scrubbed(parsed, scrub)
            is_json = True
        except (UnicodeDecodeError, ValueError, RecursionError):
            body = None
    kept = {
        name: scrub(response.headers[name])
        for name in ("content-type", "location", "x-request-id")
        if name in response.headers
    }
    request_id = kept.pop("x-request-id", None)
    if isinstance(body, dict) and isinstance(body.get("request_id"), str):
        request_id = body["request_id"]
    if request_id is not None and not _REQUEST_ID.fullmatch(request_id):
        request_id = None
    return Answer(
        method=method,
        path=path,
        status=response.status_code,
        body=body,
        body_is_json=is_json,
        request_id=request_id,
        attempts=attempts,
        headers=kept,
    )
