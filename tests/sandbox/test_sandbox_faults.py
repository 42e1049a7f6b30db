"""Injected faults, enacted by the in-process transport the way httpx meets them on a real connection."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from sandbox.support import BASE_URL, FULL, client_for
from validator.sandbox import FaultConfig, FaultKind, Sandbox, SandboxConfigError, SandboxTransport
from validator.sandbox.config import SandboxConfig, default_config


class FakeClock:
    def __call__(self) -> float:
        return 1_700_000_003.2


def _faulty(*faults: FaultConfig) -> Sandbox:
    sandbox = Sandbox()
    for fault in faults:
        sandbox.add_fault(fault)
    return sandbox


def test_a_status_fault_answers_5xx_with_a_server_error_body_then_stops() -> None:
    sandbox = _faulty(FaultConfig(route="GET /contacts", kind=FaultKind.STATUS, status=503, times=2))
    with client_for(sandbox) as client:
        statuses = [client.get("/contacts").status_code for _ in range(3)]
        failed = sandbox.log.entries[0]
    assert statuses == [503, 503, 200]
    assert failed.fault == "status"


def test_a_route_fault_leaves_other_routes_alone() -> None:
    sandbox = _faulty(FaultConfig(route="GET /contacts", kind=FaultKind.STATUS, status=500))
    with client_for(sandbox) as client:
        assert client.get("/tags").status_code == 200
        assert client.get("/contacts").json()["errors"][0]["code"] == "server_error"


def test_a_global_fault_hits_every_route_including_unauthenticated_ones() -> None:
    sandbox = _faulty(FaultConfig(route="*", kind=FaultKind.STATUS, status=502, times=2))
    with client_for(sandbox, "nobody") as stranger, client_for(sandbox) as client:
        assert stranger.get("/me").status_code == 502
        assert client.get("/tags").status_code == 502
        assert client.get("/tags").status_code == 200


def test_an_html_fault_is_a_proxy_page_not_json() -> None:
    sandbox = _faulty(FaultConfig(route="*", kind=FaultKind.HTML, status=502, times=1))
    with client_for(sandbox) as client:
        response = client.get("/me")
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert response.text.startswith("<html>") and "502 Bad Gateway" in response.text
    with pytest.raises(ValueError):
        response.json()


def test_a_rate_limit_burst_answers_429_with_headers_regardless_of_the_budget() -> None:
    sandbox = _faulty(FaultConfig(route="GET /tags", kind=FaultKind.RATE_LIMIT, times=2))
    with client_for(sandbox) as client:
        responses = [client.get("/tags") for _ in range(3)]
    assert [r.status_code for r in responses] == [429, 429, 200]
    assert responses[0].headers["X-RateLimit-Remaining"] == "0"
    assert "Retry-After" in responses[0].headers
    assert responses[2].headers["X-RateLimit-Remaining"] == "999"  # the burst did not spend the budget


def test_a_rate_limit_fault_can_announce_an_early_reset() -> None:
    clock = FakeClock()
    sandbox = Sandbox(clock=clock)
    sandbox.add_fault(FaultConfig(route="GET /tags", kind=FaultKind.RATE_LIMIT, times=1, reset_in_s=1))
    with client_for(sandbox) as client:
        limited = client.get("/tags")
    assert limited.status_code == 429
    assert limited.headers["X-RateLimit-Reset"] == str(1_700_000_004)
    assert limited.headers["Retry-After"] == "1"


def test_a_dropped_connection_raises_before_any_response() -> None:
    sandbox = _faulty(FaultConfig(route="GET /me", kind=FaultKind.DROP, times=1))
    with client_for(sandbox) as client:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            client.get("/me")
        assert client.get("/me").status_code == 200
    assert sandbox.log.entries[0].fault == "drop"


def test_a_truncated_body_raises_while_reading() -> None:
    sandbox = _faulty(FaultConfig(route="GET /contacts", kind=FaultKind.TRUNCATE, times=1))
    with client_for(sandbox) as client:
        with pytest.raises(httpx.RemoteProtocolError, match="incomplete"):
            client.get("/contacts")
        with client.stream("GET", "/contacts") as whole:
            assert whole.read()


def test_latency_is_added_before_the_answer() -> None:
    slept: list[float] = []
    sandbox = _faulty(
        FaultConfig(route="*", kind=FaultKind.LATENCY, ms=250, times=1),
        FaultConfig(route="GET /me", kind=FaultKind.LATENCY, ms=100, times=1),
    )
    transport = SandboxTransport(sandbox, sleep=slept.append)
    with httpx.Client(
        transport=transport, base_url=BASE_URL, headers={"Authorization": f"Bearer {FULL}"}
    ) as client:
        assert client.get("/me").status_code == 200
        assert client.get("/me").status_code == 200
    assert slept == [pytest.approx(0.35)]


def test_latency_combines_with_another_fault() -> None:
    slept: list[float] = []
    sandbox = _faulty(
        FaultConfig(route="*", kind=FaultKind.LATENCY, ms=50),
        FaultConfig(route="*", kind=FaultKind.STATUS, status=504, times=1),
    )
    transport = SandboxTransport(sandbox, sleep=slept.append)
    with httpx.Client(transport=transport, base_url=BASE_URL) as client:
        assert client.get("/me").status_code == 504
    assert slept == [pytest.approx(0.05)]


def test_a_slow_body_trickles_in_pieces() -> None:
    slept: list[float] = []
    sandbox = _faulty(FaultConfig(route="GET /contacts", kind=FaultKind.SLOW_BODY, ms=400))
    transport = SandboxTransport(sandbox, sleep=slept.append)
    headers = {"Authorization": f"Bearer {FULL}"}
    with (
        httpx.Client(transport=transport, base_url=BASE_URL, headers=headers) as client,
        client.stream("GET", "/contacts") as response,
    ):
        pieces = list(response.iter_raw())
    assert len(pieces) > 1
    assert sum(slept) == pytest.approx(0.4)
    assert b"".join(pieces).startswith(b'{"type":"list"')


def test_faults_can_be_cleared_on_a_live_sandbox() -> None:
    sandbox = _faulty(FaultConfig(route="*", kind=FaultKind.STATUS, status=500))
    with client_for(sandbox) as client:
        assert client.get("/me").status_code == 500
        sandbox.clear_faults()
        assert client.get("/me").status_code == 200


def test_faults_come_from_configuration_too() -> None:
    data = {
        "workspaces": [
            {"id_code": "w1", "name": "W", "admins": [{"id": "1", "name": "A", "email": "a@w.test"}]}
        ],
        "tokens": [{"value": "t-1", "workspace": "w1"}],
        "faults": [{"route": "GET /me", "kind": "status", "status": 500, "times": 1}],
    }
    sandbox = Sandbox(SandboxConfig.from_dict(data))
    with client_for(sandbox, "t-1") as client:
        assert [client.get("/me").status_code for _ in range(2)] == [500, 200]


def test_a_fault_on_an_unknown_route_is_a_config_error() -> None:
    data = {
        "workspaces": [
            {"id_code": "w1", "name": "W", "admins": [{"id": "1", "name": "A", "email": "a@w.test"}]}
        ],
        "faults": [{"route": "GET /widgets", "kind": "drop"}],
    }
    with pytest.raises(SandboxConfigError, match=r"faults\[0\]\.route"):
        SandboxConfig.from_dict(data)


def test_the_async_transport_enacts_latency_drops_and_truncation() -> None:
    sandbox = _faulty(
        FaultConfig(route="GET /me", kind=FaultKind.LATENCY, ms=50, times=1),
        FaultConfig(route="GET /tags", kind=FaultKind.DROP, times=1),
        FaultConfig(route="GET /contacts", kind=FaultKind.TRUNCATE, times=1),
        FaultConfig(route="GET /teams", kind=FaultKind.SLOW_BODY, ms=40, times=1),
    )

    async def scenario() -> tuple[float, int]:
        headers = {"Authorization": f"Bearer {FULL}"}
        async with httpx.AsyncClient(
            transport=SandboxTransport(sandbox), base_url=BASE_URL, headers=headers
        ) as c:
            started = time.monotonic()
            status = (await c.get("/me")).status_code
            waited = time.monotonic() - started
            with pytest.raises(httpx.RemoteProtocolError):
                await c.get("/tags")
            with pytest.raises(httpx.RemoteProtocolError):
                await c.get("/contacts")
            assert (await c.get("/teams")).json()["type"] == "team.list"
            return waited, status

    waited, status = asyncio.run(scenario())
    assert status == 200
    assert waited >= 0.05


def test_default_config_has_no_faults() -> None:
    assert default_config().faults == ()
