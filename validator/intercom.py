"""The HTTP client for Intercom: hosts, headers, timeouts, retries and rate limits.

Its only output is an `Answer` per request: a status, the parsed JSON body (or none) and the few headers a
verdict needs, or the reason no answer came. It never follows redirects, so the token cannot be carried
to another host, and nothing it raises or returns contains the token.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import json
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from validator import __version__

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_BODY_BYTES = 1024 * 1024  # Intercom's answers to these probes are a few KiB; more is not Intercom
# Error codes and request ids are shown to users and written into reports: only plain tokens pass.
_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_REQUEST_ID = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
DEFAULT_IN_FLIGHT = 16


class ApiUrlError(ValueError):
    """`--api-url` / INTERCOM_API_URL is not acceptable."""


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


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: at most `attempts` tries, and no request waits more than `max_total_wait` seconds.

    Requests run concurrently, so the budget of each one also bounds the wall time a run spends waiting.
    """

    attempts: int = 3
    backoff_base: float = 0.5  # first wait after a 5xx or connection error; doubles each time
    max_single_wait: float = 10.0
    max_total_wait: float = 30.0
    jitter: float = 0.25  # up to this many seconds added to every wait, so parallel clients spread out


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 15.0

    def as_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(self.read, connect=self.connect)


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
    failure: str | None = None  # why there was no usable answer ("timed out", "connection refused")
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


class RateGate:
    """Holds requests back while an app's rate-limit window is spent (X-RateLimit-Remaining: 0).

    Intercom counts per app and per workspace (API-NOTES §6), so clients that share a token share a gate.
    """

    def __init__(self) -> None:
        self._resume_at = 0.0

    def delay(self) -> float:
        """Seconds until the spent window resets; 0 when requests may go now."""
        return max(0.0, self._resume_at - time.time())

    def observe(self, headers: httpx.Headers) -> None:
        remaining, reset = headers.get("x-ratelimit-remaining"), headers.get("x-ratelimit-reset")
        if remaining is None or reset is None:
            return
        try:
            if int(remaining) <= 0:
                self._resume_at = max(self._resume_at, float(reset))
        except ValueError:
            return


class IntercomClient:
    """An Intercom API client for one token; use as an async context manager."""

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
    ) -> None:
        self.base_url = base_url
        self._retry = retry or RetryPolicy()
        timeouts = timeouts or Timeouts()
        # httpx's read timeout is per read: a server dripping a byte at a time would never trip it.
        self._deadline = timeouts.connect + timeouts.read
        self._sleep = sleep
        self._gate = gate or RateGate()
        # Bounds requests in flight (shared across clients); held only while a request is on the wire, never
        # during a retry's back-off, so one slow endpoint does not starve the others.
        self._limit = limit or asyncio.Semaphore(DEFAULT_IN_FLIGHT)
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                # Uncompressed answers only: a compressed body can inflate far past the size cap in one read.
                "Accept-Encoding": "identity",
                "Intercom-Version": api_version,
                "User-Agent": f"connector-validator/{__version__}",
            },
            timeout=timeouts.as_httpx(),
            follow_redirects=False,  # a redirect must never carry the token anywhere
            transport=transport,
        )

    async def __aenter__(self) -> IntercomClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Answer:
        """Send one request with bounded retries; never raises for network or HTTP trouble."""
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
            try:
                response, content = await self._exchange(method, path, query, body)
            except (httpx.TimeoutException, TimeoutError):
                failure = "timed out"
            except CompressedAnswer:
                failure = "a compressed answer although none was asked for (a proxy?)"
                return Answer(method, path, None, attempts=attempt, failure=failure)
            except AnswerTooLarge:
                return Answer(
                    method, path, None, attempts=attempt, failure="an answer over 1 MiB: not Intercom's"
                )
            except httpx.HTTPError as error:
                failure = _describe_http_error(error)
            if response is None:
                wait = self._backoff(attempt)
                if attempt < self._retry.attempts and self._can_wait(wait, waited):
                    waited += await self._pause(wait)
                    continue
                return Answer(method, path, None, attempts=attempt, failure=failure)
            self._gate.observe(response.headers)
            if response.status_code in RETRYABLE_STATUSES and attempt < self._retry.attempts:
                wait = self._wait_for(response, attempt)
                if self._can_wait(wait, waited):
                    waited += await self._pause(wait)
                    continue
            return _answer(method, path, response, content, attempt)

    async def _exchange(
        self, method: str, path: str, query: Mapping[str, str] | None, body: Mapping[str, Any] | None
    ) -> tuple[httpx.Response, bytes]:
        """One attempt: the request and its whole body, within one deadline and the body size cap."""
        request = self._http.build_request(method, path, params=query, json=body)
        async with self._limit, asyncio.timeout(self._deadline):
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

    def _backoff(self, attempt: int) -> float:
        return float(min(self._retry.backoff_base * 2.0 ** (attempt - 1), self._retry.max_single_wait))

    def _wait_for(self, response: httpx.Response, attempt: int) -> float:
        if response.status_code == 429:
            hinted = _hinted_wait(response.headers)
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


def _hinted_wait(headers: httpx.Headers) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or `X-RateLimit-Reset` (Unix seconds)."""
    retry_after = headers.get("retry-after")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:
                moment = email.utils.parsedate_to_datetime(retry_after)
                return max(0.0, moment.timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    reset = headers.get("x-ratelimit-reset")
    if reset:
        try:
            return max(0.0, float(reset) - time.time())
        except ValueError:
            return None
    return None


class AnswerTooLarge(Exception):
    """The body went past MAX_BODY_BYTES; reading stopped there."""


class CompressedAnswer(Exception):
    """The body came compressed although `Accept-Encoding: identity` was sent; it is not decompressed."""


def _describe_http_error(error: httpx.HTTPError) -> str:
    """The kind of failure, with detail only where httpx's message cannot hold a header value."""
    kind = type(error).__name__
    # Network errors name their cause ("[Errno 111] Connection refused"). Other messages may quote what
    # was being sent (LocalProtocolError quotes an illegal header value: the Authorization header).
    if not isinstance(error, httpx.NetworkError | httpx.RemoteProtocolError):
        return kind
    detail = " ".join(str(error).split())[:200]
    return f"{kind}: {detail}" if detail else kind


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate keys")  # ambiguous: which `type` would Intercom have meant?
    return dict(pairs)


def _answer(method: str, path: str, response: httpx.Response, content: bytes, attempts: int) -> Answer:
    body: Any = None
    is_json = False
    if content:
        try:
            body = json.loads(content.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
            is_json = True
        except (UnicodeDecodeError, ValueError, RecursionError):
            body = None
    request_id = response.headers.get("x-request-id")
    if isinstance(body, dict) and isinstance(body.get("request_id"), str):
        request_id = body["request_id"]
    if request_id is not None and not _REQUEST_ID.fullmatch(request_id):
        request_id = None
    kept = {name: response.headers[name] for name in ("content-type", "location") if name in response.headers}
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
