"""The sandbox over real loopback sockets: keep-alive, concurrency, and faults enacted on the connection."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

import httpx
import pytest

from sandbox.support import FULL, with_tokens
from validator.sandbox import FaultConfig, FaultKind, RateLimitConfig, Sandbox, ServedSandbox, serve

AUTH = {"Authorization": f"Bearer {FULL}"}


def test_served_sandbox_answers_on_an_ephemeral_loopback_port(served_sandbox: ServedSandbox) -> None:
    url = urlsplit(served_sandbox.base_url)
    assert url.hostname == "127.0.0.1" and url.port
    with httpx.Client(base_url=served_sandbox.base_url, headers=AUTH) as client:
        me = client.get("/me")
        refused = client.post("/tags", json={"test": "invalid"})
    assert me.json()["app"]["id_code"] == "abc12xyz"
    assert me.headers["X-RateLimit-Limit"] == "1000"
    assert refused.status_code == 400
    assert [e.path for e in served_sandbox.sandbox.log.entries] == ["/me", "/tags"]


def test_keep_alive_reuses_one_connection(served_sandbox: ServedSandbox) -> None:
    host, port = "127.0.0.1", urlsplit(served_sandbox.base_url).port
    with socket.create_connection((host, port), timeout=5) as conn:
        request = f"GET /tags HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {FULL}\r\n\r\n".encode()
        conn.sendall(request + request)
        received = b""
        while received.count(b"HTTP/1.1 200") < 2:
            chunk = conn.recv(65536)
            assert chunk, "server closed a keep-alive connection"
            received += chunk


def test_the_port_is_released_on_exit() -> None:
    with serve(Sandbox()) as base_url:
        port = urlsplit(base_url).port
        assert port is not None
        assert httpx.get(f"{base_url}/me", headers=AUTH).status_code == 200
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_a_drop_closes_the_socket_without_an_answer(served_sandbox: ServedSandbox) -> None:
    served_sandbox.sandbox.add_fault(FaultConfig(route="GET /me", kind=FaultKind.DROP, times=1))
    with httpx.Client(base_url=served_sandbox.base_url, headers=AUTH) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/me")
        assert client.get("/me").status_code == 200


def test_a_truncated_body_is_short_of_its_content_length(served_sandbox: ServedSandbox) -> None:
    served_sandbox.sandbox.add_fault(FaultConfig(route="GET /contacts", kind=FaultKind.TRUNCATE, times=1))
    with httpx.Client(base_url=served_sandbox.base_url, headers=AUTH) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/contacts")
        assert client.get("/contacts").json()["type"] == "list"


def test_a_slow_body_arrives_whole(served_sandbox: ServedSandbox) -> None:
    served_sandbox.sandbox.add_fault(
        FaultConfig(route="GET /teams", kind=FaultKind.SLOW_BODY, ms=80, times=1)
    )
    with httpx.Client(base_url=served_sandbox.base_url, headers=AUTH) as client:
        response = client.get("/teams")
    assert response.json()["type"] == "team.list"
    assert response.elapsed.total_seconds() >= 0.05


def test_latency_and_html_faults_over_the_wire(served_sandbox: ServedSandbox) -> None:
    served_sandbox.sandbox.add_fault(FaultConfig(route="GET /tags", kind=FaultKind.LATENCY, ms=60, times=1))
    served_sandbox.sandbox.add_fault(FaultConfig(route="GET /tags", kind=FaultKind.HTML, status=502, times=1))
    with httpx.Client(base_url=served_sandbox.base_url, headers=AUTH) as client:
        page = client.get("/tags")
    assert page.status_code == 502 and page.headers["content-type"] == "text/html"
    assert page.elapsed.total_seconds() >= 0.05


def test_300_requests_50_at_a_time_all_succeed() -> None:
    sandbox = Sandbox(with_tokens(rate_limit=RateLimitConfig(limit=100_000, window_seconds=10)))

    async def burst(base_url: str) -> list[int]:
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
        async with httpx.AsyncClient(base_url=base_url, headers=AUTH, limits=limits, timeout=30) as client:

            async def worker() -> list[int]:  # 50 workers of 6 requests each: 50 in flight at any time
                return [(await client.get("/contacts", params={"per_page": 1})).status_code for _ in range(6)]

            return [
                status for batch in await asyncio.gather(*(worker() for _ in range(50))) for status in batch
            ]

    with serve(sandbox) as base_url:
        statuses = asyncio.run(burst(base_url))
    assert statuses == [200] * 300
    assert len(sandbox.log) == 300


@pytest.mark.parametrize("length", ["abc", "1.5", "-1", "99999999999"])
def test_a_content_length_the_server_cannot_use_is_refused_without_reading(length: str) -> None:
    import socket

    with serve(Sandbox()) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as connection:
            connection.sendall(f"POST /tags HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode())
            answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.") and b" 400 " in answer.split(b"\r\n")[0]
