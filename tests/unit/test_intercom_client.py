"""The HTTP client: headers, retries within bounds, rate-limit hints, no redirects, no token in failures."""

from __future__ import annotations

import asyncio
import gzip
import http.server
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest

from loopback import ProxyRecorder
from validator.intercom import (
    MAX_BODY_BYTES,
    Answer,
    ApiUrlError,
    IntercomClient,
    check_api_url,
    uses_environment_proxies,
)
from validator.pacing import HostBreaker, RetryPolicy, Timeouts
from validator.tokens import token_problem

TOKEN = "dG9rOjcanary-client-token"
URL = "https://api.intercom.io"


class Clock:
    """Records the waits the client asks for instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


def run(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    retry: RetryPolicy | None = None,
    method: str = "GET",
    path: str = "/contacts",
) -> tuple[Answer, Clock, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    clock = Clock()

    async def go() -> Answer:
        client = IntercomClient(
            "https://api.intercom.io",
            TOKEN,
            "2.15",
            retry=retry or RetryPolicy(jitter=0.0),
            transport=httpx.MockTransport(record),
            sleep=clock.sleep,
        )
        async with client:
            return await client.request(method, path)

    return asyncio.run(go()), clock, seen


def test_every_request_carries_the_bearer_token_accept_and_version_headers() -> None:
    answer, _, seen = run(lambda request: httpx.Response(200, json={"type": "list"}))
    headers = seen[0].headers
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["accept"] == "application/json"
    assert headers["intercom-version"] == "2.15"
    assert answer.status == 200


def test_a_429_is_retried_after_the_retry_after_header() -> None:
    replies = iter([httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json={})])
    answer, clock, seen = run(lambda request: next(replies))
    assert len(seen) == 2 and answer.status == 200
    assert clock.waits == [2.0]


def test_a_429_waits_until_x_ratelimit_reset_when_there_is_no_retry_after() -> None:
    reset = int(time.time()) + 3
    replies = iter(
        [httpx.Response(429, headers={"X-RateLimit-Reset": str(reset)}), httpx.Response(200, json={})]
    )
    _, clock, _ = run(lambda request: next(replies))
    assert len(clock.waits) == 1 and 1.5 < clock.waits[0] <= 3.0


def test_a_429_beyond_the_retry_budget_comes_back_as_429() -> None:
    answer, _, seen = run(lambda request: httpx.Response(429, headers={"Retry-After": "1"}))
    assert answer.status == 429
    assert len(seen) == RetryPolicy().attempts


def test_a_wait_longer_than_the_cap_is_not_taken() -> None:
    answer, clock, seen = run(lambda request: httpx.Response(429, headers={"Retry-After": "3600"}))
    assert answer.status == 429 and len(seen) == 1 and clock.waits == []


def test_5xx_answers_back_off_exponentially() -> None:
    answer, clock, seen = run(lambda request: httpx.Response(503))
    assert answer.status == 503 and len(seen) == 3
    assert clock.waits == [0.5, 1.0]


def test_the_total_wait_is_capped() -> None:
    policy = RetryPolicy(attempts=10, jitter=0.0, max_total_wait=2.0)
    _, clock, seen = run(lambda request: httpx.Response(500), retry=policy)
    assert sum(clock.waits) <= 2.0
    assert len(seen) == 3  # 0.5 + 1.0 fit the budget, 2.0 more would not


def test_connection_errors_are_retried_then_reported_without_the_token() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    answer, _, seen = run(refuse)
    assert answer.status is None and len(seen) == 3
    assert answer.failure == "api.intercom.io: network error (ConnectError: connection refused)"
    assert TOKEN not in repr(answer)


def test_timeouts_become_an_answer_without_a_status() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    answer, _, _ = run(slow)
    assert (
        answer.status is None and answer.failure == "api.intercom.io: timed out (nothing received for 15 s)"
    )


def test_redirects_are_never_followed_so_the_token_cannot_leave_the_host() -> None:
    answer, _, seen = run(lambda request: httpx.Response(302, headers={"Location": "https://evil.example/"}))
    assert [request.url.host for request in seen] == ["api.intercom.io"]
    assert answer.status == 302


def test_a_non_json_body_is_kept_as_not_json() -> None:
    answer, _, _ = run(lambda request: httpx.Response(200, text="<html>proxy error</html>"))
    assert answer.body_is_json is False


def test_the_request_id_comes_from_the_error_body() -> None:
    body = {"type": "error.list", "request_id": "abc-123", "errors": [{"code": "not_found", "message": "x"}]}
    answer, _, _ = run(lambda request: httpx.Response(404, json=body))
    assert answer.request_id == "abc-123"
    assert answer.error == ("not_found", "x")


@pytest.mark.parametrize(
    "url",
    ["https://api.intercom.io", "http://127.0.0.1:8080", "http://localhost:1/", "http://[::1]:9"],
)
def test_https_or_loopback_urls_are_accepted(url: str) -> None:
    assert check_api_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    ["http://api.intercom.io", "http://10.0.0.1", "ftp://x", "api.intercom.io", "https://user:pw@host"],
)
def test_plain_http_to_a_remote_host_and_odd_urls_are_refused(url: str) -> None:
    with pytest.raises(ApiUrlError):
        check_api_url(url)


def test_a_spent_rate_limit_window_holds_the_next_request_until_the_reset() -> None:
    reset = int(time.time()) + 3
    headers = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    clock = Clock()

    async def go() -> None:
        client = IntercomClient(
            "https://api.intercom.io",
            TOKEN,
            "2.15",
            transport=httpx.MockTransport(lambda request: httpx.Response(200, json={}, headers=headers)),
            retry=RetryPolicy(jitter=0.0),
            sleep=clock.sleep,
        )
        async with client:
            await client.request("GET", "/tags")
            assert clock.waits == []
            await client.request("GET", "/tags")

    asyncio.run(go())
    assert len(clock.waits) == 1 and 1.5 < clock.waits[0] <= 3.0


def test_a_window_that_resets_beyond_the_retry_budget_gives_up_instead_of_hanging() -> None:
    reset = int(time.time()) + 3600
    headers = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    clock = Clock()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={}, headers=headers)

    async def go() -> Answer:
        transport = httpx.MockTransport(handler)
        client = IntercomClient(URL, TOKEN, "2.15", transport=transport, sleep=clock.sleep)
        async with client:
            await client.request("GET", "/tags")
            return await client.request("GET", "/tags")

    held = asyncio.run(go())
    assert clock.waits == [] and len(seen) == 1
    assert held.status is None and held.failure is not None and "beyond the retry budget" in held.failure


class Drip(httpx.AsyncByteStream):
    """A body that never ends: one byte at a time, each well within the per-read timeout."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(1000):
            await asyncio.sleep(0.05)
            yield b" "


def test_a_body_dripping_forever_times_out_as_a_whole() -> None:
    async def go() -> Answer:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=Drip()))
        client = IntercomClient(
            URL,
            TOKEN,
            "2.15",
            transport=transport,
            timeouts=Timeouts(connect=0.1, read=0.3),
            retry=RetryPolicy(attempts=1),
        )
        async with client:
            return await client.request("GET", "/tags")

    started = time.monotonic()
    answer = asyncio.run(go())
    assert answer.status is None
    assert answer.failure == "api.intercom.io: timed out (no complete answer within 0.4 s)"
    assert time.monotonic() - started < 2


def test_an_answer_over_the_size_cap_is_not_read_to_the_end() -> None:
    huge = b"[" + b"0," * (MAX_BODY_BYTES // 2 + 10) + b"0]"
    answer, _, seen = run(lambda request: httpx.Response(200, content=huge))
    assert answer.status is None and answer.failure is not None and "1 MiB" in answer.failure
    assert len(seen) == 1  # not retried


@pytest.mark.parametrize("content", [b"not gzip", gzip.compress(b"[" + b"0," * 1_000_000 + b"0]")])
def test_a_compressed_body_is_never_inflated(content: bytes) -> None:
    """`Accept-Encoding: identity` is sent; a gzip bomb must not get past the size cap by inflating."""
    answer, _, seen = run(
        lambda request: httpx.Response(200, content=content, headers={"Content-Encoding": "gzip"})
    )
    assert seen[0].headers["accept-encoding"] == "identity"
    assert answer.status is None and answer.failure is not None
    assert "compressed" in answer.failure or answer.failure == (
        "api.intercom.io: an answer that could not be decoded (DecodingError)"
    )


@pytest.mark.parametrize(
    "content",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"type": "error.list", "type": "list"}',
        '{"type": "list"}'.encode("utf-16"),
    ],
    ids=["deep", "duplicate-keys", "utf-16"],
)
def test_bodies_that_are_not_plainly_json_are_not_json(content: bytes) -> None:
    answer, _, _ = run(lambda request: httpx.Response(200, content=content))
    assert answer.status == 200 and answer.body_is_json is False


def test_codes_and_request_ids_with_control_characters_are_dropped() -> None:
    body = {
        "type": "error.list",
        "request_id": "x\x1b[31m",
        "errors": [{"code": "::error::pwned\n", "message": "m"}],
    }
    answer, _, _ = run(lambda request: httpx.Response(404, json=body))
    assert answer.error == (None, "m") and answer.request_id is None


def test_an_illegal_header_value_never_echoes_the_header() -> None:
    from validator.sandbox.app import Sandbox
    from validator.sandbox.server import serve

    async def go(base_url: str) -> Answer:
        async with IntercomClient(
            base_url, "dG9rOjbad\ntoken-value", "2.15", retry=RetryPolicy(attempts=1)
        ) as client:
            return await client.request("GET", "/me")

    with serve(Sandbox()) as base_url:
        answer = asyncio.run(go(base_url))
    assert answer.status is None and answer.failure == (
        f"{base_url.removeprefix('http://')}: the request could not be sent (LocalProtocolError)"
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://localhost:99999",
        "http://localhost:abc",
        "https://xn--zz.invalid",
        "https://api.intercom.io\n",
        " https://api.intercom.io",
        "https://api.intercom.io/?x=1",
    ],
)
def test_urls_that_cannot_be_used_are_refused_with_a_message(url: str) -> None:
    with pytest.raises(ApiUrlError):
        check_api_url(url)


@pytest.mark.parametrize(
    "value",
    ['dG9rOj"quoted"-0123456789', "dG9rOj<b>markup</b>-0123", "dG9rOj&amp;-0123456789ab", "short"],
)
def test_values_whose_escaped_forms_could_slip_past_the_scrubber_are_not_tokens(value: str) -> None:
    assert token_problem(value) is not None


def test_base64_and_sandbox_tokens_are_accepted() -> None:
    assert token_problem("dG9rOjAwY2FuYXJ5LTdmM2UtNDFhYS1iZWVmLWQ0NTZlYjAwMDAwMQ==") is None
    assert token_problem("sandbox-full-access-0001") is None


def test_a_retry_budget_of_zero_means_one_attempt() -> None:
    answer, clock, seen = run(lambda request: httpx.Response(503), retry=RetryPolicy(max_total_wait=0.0))
    assert answer.status == 503 and len(seen) == 1 and clock.waits == []


# --- the circuit breaker ---------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_host_silent_for_a_timeout_opens_the_breaker_and_later_requests_are_not_sent() -> None:
    clock = FakeClock()
    breaker = HostBreaker("api.intercom.io", quiet=10.0, clock=clock)
    seen: list[httpx.Request] = []

    def silent(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        clock.now += 5.0  # each attempt waits 5 s for nothing
        raise httpx.ReadTimeout("read timed out", request=request)

    async def go() -> list[Answer]:
        client = IntercomClient(
            URL, TOKEN, "2.15", transport=httpx.MockTransport(silent), breaker=breaker,
            retry=RetryPolicy(jitter=0.0), sleep=Clock().sleep,
        )  # fmt: skip
        async with client:
            first = await client.request("GET", "/me")
            return [first, await client.request("GET", "/tags")]

    first, later = asyncio.run(go())
    assert len(seen) == 3 and first.attempts == 3  # the third failure, 15 s without an answer, opens it
    assert breaker.reason is not None and "api.intercom.io" in breaker.reason
    assert first.failure is not None and "stopped answering" in first.failure
    assert later.status is None and later.attempts == 0
    assert later.failure is not None and "api.intercom.io stopped answering" in later.failure
    assert later.failure.endswith("not sent")


def test_server_errors_never_open_the_breaker() -> None:
    clock = FakeClock()
    breaker = HostBreaker("api.intercom.io", quiet=1.0, clock=clock)

    def failing(request: httpx.Request) -> httpx.Response:
        clock.now += 60.0
        return httpx.Response(503)

    async def go() -> list[Answer]:
        client = IntercomClient(
            URL, TOKEN, "2.15", transport=httpx.MockTransport(failing), breaker=breaker,
            retry=RetryPolicy(jitter=0.0), sleep=Clock().sleep,
        )  # fmt: skip
        async with client:
            return [await client.request("GET", "/tags") for _ in range(5)]

    answers = asyncio.run(go())
    assert breaker.reason is None
    assert [answer.status for answer in answers] == [503] * 5 and all(a.attempts == 3 for a in answers)


def test_a_burst_of_dropped_connections_on_a_host_that_just_answered_does_not_open_it() -> None:
    clock = FakeClock()
    breaker = HostBreaker("api.intercom.io", quiet=10.0, clock=clock)
    replies = iter([httpx.Response(200, json={"type": "list"})] + [None] * 5 + [httpx.Response(200, json={})])

    def flaky(request: httpx.Request) -> httpx.Response:
        clock.now += 0.1
        reply = next(replies)
        if reply is None:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return reply

    async def go() -> list[Answer]:
        client = IntercomClient(
            URL, TOKEN, "2.15", transport=httpx.MockTransport(flaky), breaker=breaker,
            retry=RetryPolicy(attempts=10, jitter=0.0), sleep=Clock().sleep,
        )  # fmt: skip
        async with client:
            return [await client.request("GET", "/me"), await client.request("GET", "/tags")]

    _, after_burst = asyncio.run(go())
    assert breaker.reason is None and after_burst.status == 200 and after_burst.attempts == 6


def test_an_open_breaker_cuts_attempts_in_flight() -> None:
    async def go() -> tuple[Answer, float]:
        breaker = HostBreaker("api.intercom.io", quiet=0.0, threshold=1)
        hanging = asyncio.Event()

        async def hang(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/hang":
                hanging.set()
                await asyncio.sleep(30)
            raise httpx.ConnectError("refused", request=request)

        client = IntercomClient(
            URL, TOKEN, "2.15", transport=httpx.MockTransport(hang), breaker=breaker,
            retry=RetryPolicy(attempts=1), timeouts=Timeouts(connect=30, read=30),
        )  # fmt: skip
        async with client:
            started = time.monotonic()
            slow = asyncio.create_task(client.request("GET", "/hang"))
            await hanging.wait()
            await client.request("GET", "/refused")  # opens the breaker
            return await slow, time.monotonic() - started

    cut, elapsed = asyncio.run(go())
    assert elapsed < 5 and cut.status is None
    assert cut.failure is not None and cut.failure.startswith("cut off; the API host api.intercom.io")


# --- proxies ---------------------------------------------------------------------------------------------


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ProxyRecorder]:
    recorder = ProxyRecorder()
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, recorder.url)
    yield recorder
    recorder.close()


def test_plain_http_to_loopback_never_goes_through_a_proxy_from_the_environment(proxy: ProxyRecorder) -> None:
    headers: list[str] = []

    class Api(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers.append(self.headers.get("Authorization", ""))
            body = b'{"type": "list", "data": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    async def go() -> Answer:
        async with IntercomClient(f"http://127.0.0.1:{server.server_address[1]}", TOKEN, "2.15") as client:
            return await client.request("GET", "/tags")

    try:
        answer = asyncio.run(go())
    finally:
        server.shutdown()
        server.server_close()
    assert proxy.received == []
    assert answer.status == 200 and headers == [f"Bearer {TOKEN}"]


def test_https_may_use_the_proxy_but_only_as_a_tunnel_that_never_sees_the_token(proxy: ProxyRecorder) -> None:
    async def go() -> Answer:
        retry = RetryPolicy(attempts=1)
        async with IntercomClient("https://api.intercom.io", TOKEN, "2.15", retry=retry) as client:
            return await client.request("GET", "/me")

    answer = asyncio.run(go())
    assert answer.status is None  # the stand-in proxy refuses the tunnel
    assert len(proxy.received) == 1
    assert proxy.received[0].startswith(b"CONNECT api.intercom.io:443 ")
    assert TOKEN.encode() not in proxy.received[0] and b"Authorization" not in proxy.received[0]


def test_only_https_base_urls_use_proxies_from_the_environment() -> None:
    assert uses_environment_proxies("https://api.intercom.io")
    assert not uses_environment_proxies("http://127.0.0.1:8080")
    assert not uses_environment_proxies("http://localhost")


def test_dropped_connections_after_a_long_quiet_pause_do_not_open_the_breaker() -> None:
    """After a rate-limit pause the host has been quiet for long, but these attempts were not kept waiting."""
    clock = FakeClock()
    breaker = HostBreaker("api.intercom.io", quiet=10.0, clock=clock)
    replies = iter([httpx.Response(200, json={"type": "list"})] + [None] * 3 + [httpx.Response(200, json={})])

    def after_pause(request: httpx.Request) -> httpx.Response:
        reply = next(replies)
        if reply is None:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return reply

    async def go() -> Answer:
        client = IntercomClient(
            URL, TOKEN, "2.15", transport=httpx.MockTransport(after_pause), breaker=breaker,
            retry=RetryPolicy(attempts=5, jitter=0.0), sleep=Clock().sleep,
        )  # fmt: skip
        async with client:
            await client.request("GET", "/me")
            clock.now += 100.0  # a long pause (a spent rate-limit window) between two requests
            return await client.request("GET", "/tags")

    answer = asyncio.run(go())
    assert breaker.reason is None and answer.status == 200 and answer.attempts == 4
