"""A run of many connectors: one httpx client and pool, identical requests sent once, gates by /me, the
in-flight bound that grows with the workspaces."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from validator.catalog import load_catalog
from validator.checker import Checker
from validator.connections import ShardedTransport, http_client
from validator.formats import Format, render
from validator.intercom import IntercomClient
from validator.pacing import MAX_IN_FLIGHT, RateGates, in_flight_bound
from validator.sandbox import Sandbox, SandboxConfig, SandboxTransport
from validator.sandbox.server import SandboxHTTPServer
from validator.sharing import SharedRequests, identity_of, request_key
from validator.validate import Ready, RunOptions, check_one, prepare_all, run_checks

FULL = "sandbox-full-access-0001"  # the default sandbox's tokens and workspaces
NO_WRITE_TAGS = "sandbox-no-write-tags-0002"
EU_FULL = "sandbox-eu-full-access-0004"
AU_FULL = "sandbox-au-full-access-0005"
ACME = "abc12xyz"
API = "https://api.intercom.io"
ALL_PERMISSIONS = """\
permissions:
  people: [read, write]
  companies: [read, write]
  conversations: [read, write]
  teams_and_teammates: [read, write]
  tags: [read, write]
  workspace_counts: [read]
  data_attributes: [read, write]
"""


def connector(
    directory: Path, name: str, *, workspace: str = ACME, token_env: str = "TOKEN", permissions: str = ""
) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(
        "version: 1\n"
        f"name: {name}\n"
        "platform: intercom\n"
        f"workspace: {{id: {workspace}}}\n"
        f"auth: {{mode: access_token, token_env: {token_env}}}\n" + (permissions or ALL_PERMISSIONS),
        encoding="utf-8",
    )
    return path


def run(
    paths: Sequence[Path],
    environ: dict[str, str],
    transport: httpx.AsyncBaseTransport,
    concurrency: int | None = None,
) -> dict[str, Any]:
    prepared = prepare_all(paths, environ, None)
    options = RunOptions(api_url=API, concurrency=concurrency, transport_factory=lambda: transport)
    report = asyncio.run(run_checks(prepared, options))
    parsed: dict[str, Any] = json.loads(render(Format.JSON, report))
    return parsed


def without_request_ids(value: Any) -> Any:
    """The sandbox gives every answer its own request id; a shared answer has one for all its readers."""
    if isinstance(value, dict):
        return {key: without_request_ids(item) for key, item in value.items() if key != "request_id"}
    if isinstance(value, list):
        return [without_request_ids(item) for item in value]
    return value


# --- identical requests are sent once -------------------------------------------------------------------


def test_twenty_connectors_sharing_one_token_send_no_more_requests_than_one(tmp_path: Path) -> None:
    paths = [connector(tmp_path, f"service-{i:02d}") for i in range(20)]
    alone, together = Sandbox(), Sandbox()

    one = run(paths[:1], {"TOKEN": FULL}, SandboxTransport(alone))
    twenty = run(paths, {"TOKEN": FULL}, SandboxTransport(together))

    assert len(alone.log) >= 15  # /me and the probes of 13 permissions
    assert len(together.log) == len(alone.log)
    assert one["outcome"] == twenty["outcome"] == "pass"
    assert len(twenty["connectors"]) == 20


def test_shared_answers_leave_each_connectors_result_as_it_would_be_alone(tmp_path: Path) -> None:
    """Different files with one token: each result has its own positions, labels and advice; requests are
    the distinct ones of all files."""
    tags_only = "permissions:\n  tags: [read, write]\n"
    people_and_tags = "permissions:\n  people: [read]\n  tags: [read]\n"
    paths = [
        connector(tmp_path, "tagger", permissions=tags_only),
        connector(tmp_path, "crm", permissions=people_and_tags),
        connector(tmp_path, "elsewhere", workspace="zz99wksp", permissions=tags_only),
    ]
    environ = {"TOKEN": NO_WRITE_TAGS}
    together = Sandbox()
    shared = run(paths, environ, SandboxTransport(together))
    singles = [run([path], environ, SandboxTransport(Sandbox())) for path in paths]

    for i, single in enumerate(singles):
        assert without_request_ids(shared["connectors"][i]) == without_request_ids(single["connectors"][0])
    sent = [(entry.method, entry.path, tuple(sorted(entry.query.items()))) for entry in together.log]
    assert len(sent) == len(set(sent))  # nothing sent twice
    verdicts = [
        {f"{p['data_type']}:{p['access']}": p["status"] for p in c["permissions"]}
        for c in shared["connectors"]
    ]
    assert verdicts[0] == {"tags:read": "granted", "tags:write": "missing"}
    assert shared["connectors"][2]["workspace"]["status"] == "mismatch"


def test_connectors_with_different_tokens_share_nothing(tmp_path: Path) -> None:
    paths = [
        connector(tmp_path, "a", token_env="TOKEN_A"),
        connector(tmp_path, "b", token_env="TOKEN_B"),
    ]
    both, one = Sandbox(), Sandbox()
    run(paths, {"TOKEN_A": FULL, "TOKEN_B": NO_WRITE_TAGS}, SandboxTransport(both))
    run(paths[:1], {"TOKEN_A": FULL}, SandboxTransport(one))
    assert len(both.log) == 2 * len(one.log)


def test_the_memo_keys_hold_a_digest_of_the_token_never_the_token() -> None:
    identity = identity_of(FULL, API, "2.15")
    key = request_key("POST", "/tags", {"b": "2", "a": "1"}, {"test": "invalid"})
    assert FULL not in repr((identity, key)) and FULL.encode() not in identity[0]
    assert key == request_key("post", "/tags", {"a": "1", "b": "2"}, {"test": "invalid"})
    assert identity != identity_of(FULL, API, "2.16") != identity_of(NO_WRITE_TAGS, API, "2.15")


def test_the_memo_lets_answers_go_when_no_other_client_of_the_token_remains() -> None:
    async def go() -> tuple[int, int, int]:
        shared: SharedRequests[str] = SharedRequests()
        lone, pair = (
            identity_of("lone-token-value", API, "2.15"),
            identity_of("pair-token-value", API, "2.15"),
        )
        shared.join(lone)
        shared.join(pair)
        shared.join(pair)
        sends = 0

        async def send() -> str:
            nonlocal sends
            sends += 1
            await asyncio.sleep(0)
            return "answer"

        key = request_key("GET", "/me", None, None)
        await shared.answer(lone, key, send)
        await shared.answer(lone, key, send)  # the lone client's answer was let go: sent again
        await shared.answer(pair, key, send)
        await shared.answer(pair, key, send)  # kept for the second client of the pair
        kept = len(shared._answers)
        shared.leave(pair)
        shared.leave(pair)
        shared.leave(lone)
        return sends, kept, len(shared._answers)

    sends, kept, left = asyncio.run(go())
    assert (sends, kept, left) == (3, 1, 0)


def test_a_waiter_given_up_does_not_cancel_the_request_for_the_others() -> None:
    async def go() -> str:
        shared: SharedRequests[str] = SharedRequests()
        identity = identity_of("some-token-value", API, "2.15")
        shared.join(identity)
        shared.join(identity)
        release = asyncio.Event()

        async def send() -> str:
            await release.wait()
            return "answer"

        key = request_key("GET", "/me", None, None)
        impatient = asyncio.ensure_future(shared.answer(identity, key, send))
        patient = asyncio.ensure_future(shared.answer(identity, key, send))
        await asyncio.sleep(0)
        impatient.cancel()
        release.set()
        return await patient

    assert asyncio.run(go()) == "answer"


# --- one client, one pool -------------------------------------------------------------------------------


class CountingServer(SandboxHTTPServer):
    """The loopback sandbox, counting the TCP connections it accepted."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(("127.0.0.1", 0), sandbox)
        self.connections = 0

    def process_request(self, request: socket.socket | tuple[bytes, socket.socket], client: Any) -> None:
        self.connections += 1
        super().process_request(request, client)


@pytest.fixture
def counting_server() -> Iterator[CountingServer]:
    server = CountingServer(Sandbox())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_all_connectors_of_a_run_reuse_one_pool_of_connections(
    tmp_path: Path, counting_server: CountingServer
) -> None:
    """Four tokens, 4 x 15 requests or more, at most 3 in flight: three connections for the whole run (a
    client per connector opened at least one each, and up to 14)."""
    tokens = {"T1": FULL, "T2": NO_WRITE_TAGS, "T3": EU_FULL, "T4": AU_FULL}
    paths = [connector(tmp_path, f"c{i}", token_env=f"T{i}") for i in range(1, 5)]
    prepared = prepare_all(paths, tokens, None)
    api_url = f"http://127.0.0.1:{counting_server.server_address[1]}"
    asyncio.run(run_checks(prepared, RunOptions(api_url=api_url, concurrency=3)))
    assert len(counting_server.sandbox.log) >= 60  # four tokens, each /me and the probes of 13 permissions
    assert counting_server.connections <= 3


def test_one_http_client_carries_each_tokens_headers_and_stays_open() -> None:
    seen: list[tuple[str | None, str | None]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.headers.get("authorization"), request.headers.get("intercom-version")))
        return httpx.Response(200, json={"type": "list", "data": []})

    async def go() -> bool:
        async with http_client(transport=httpx.MockTransport(answer)) as http:
            for token, version in (("first-token-value", "2.15"), ("second-token-value", "2.16")):
                async with IntercomClient(API, token, version, http=http) as client:
                    await client.request("GET", "/tags")
            return http.is_closed

    assert asyncio.run(go()) is False
    assert seen == [("Bearer first-token-value", "2.15"), ("Bearer second-token-value", "2.16")]


def test_a_cookie_set_for_one_token_never_travels_with_another_tokens_request() -> None:
    cookies: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        cookies.append(request.headers.get("cookie"))
        headers = {"Set-Cookie": "session=abc; Path=/", "Content-Type": "application/json"}
        return httpx.Response(200, headers=headers, json={"type": "list", "data": []})

    async def go() -> None:
        async with http_client(transport=httpx.MockTransport(answer)) as http:
            for token in ("first-token-value", "second-token-value"):
                async with IntercomClient(API, token, "2.15", http=http) as client:
                    await client.request("GET", "/tags")

    asyncio.run(go())
    assert cookies == [None, None]


def test_the_run_client_keeps_no_cookie_and_refuses_one_given() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Set-Cookie": "session=abc; Path=/"}, json={"type": "list"})

    async def go() -> httpx.AsyncClient:
        async with http_client(transport=httpx.MockTransport(answer)) as http:
            await http.get(f"{API}/tags")
            return http

    http = asyncio.run(go())
    assert list(http.cookies.jar) == []
    with pytest.raises(TypeError):
        http.cookies.set("session", "abc")
    with pytest.raises(TypeError):
        http.cookies = {"session": "abc"}


def test_a_transport_goes_to_the_shared_client_not_beside_it() -> None:
    async def go() -> None:
        async with http_client() as http:
            IntercomClient(API, FULL, "2.15", http=http, transport=httpx.MockTransport(lambda r: None))  # type: ignore[arg-type]

    with pytest.raises(TypeError):
        asyncio.run(go())


class Body(httpx.AsyncByteStream):
    """A body read from the network, as a real transport returns it (not read in advance)."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"{}"


def test_the_sharded_transport_reuses_the_slot_freed_last_and_frees_it_on_errors() -> None:
    made: list[int] = []

    def make(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
        number = len(made)
        made.append(number)

        def answer(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/boom":
                raise httpx.ConnectError("refused")
            return httpx.Response(200, headers={"x-shard": str(number)}, stream=Body())

        return httpx.MockTransport(answer)

    async def go() -> list[str]:
        transport = ShardedTransport(4, per_shard=1, make=make)
        shards = []
        async with httpx.AsyncClient(transport=transport) as http:
            for path in ("/a", "/b"):
                response = await http.get(f"http://127.0.0.1{path}")
                shards.append(response.headers["x-shard"])
            with pytest.raises(httpx.ConnectError):
                await http.get("http://127.0.0.1/boom")
            async with (
                http.stream("GET", "http://127.0.0.1/c") as first,
                http.stream("GET", "http://127.0.0.1/d") as second,
            ):
                shards += [first.headers["x-shard"], second.headers["x-shard"]]
        return shards

    assert asyncio.run(go()) == ["0", "0", "0", "1"]
    assert made == [0, 1, 2, 3]


# --- gates by the workspace /me names; the in-flight bound ----------------------------------------------


def test_probes_are_paced_by_the_gate_of_the_workspace_me_names(tmp_path: Path) -> None:
    path = connector(tmp_path, "declares-another", workspace="zz99wksp")
    (item,) = prepare_all([path], {"TOKEN": FULL}, None)
    assert isinstance(item, Ready)
    gates = RateGates()
    declared = gates.for_workspace(API, "zz99wksp")

    async def go() -> object:
        client = IntercomClient(API, FULL, "2.15", gate=declared, transport=SandboxTransport(Sandbox()))
        async with client:
            await check_one(Checker(load_catalog()), item.spec, client, FULL, gates)
            return client.gate

    assert asyncio.run(go()) is gates.for_workspace(API, ACME)


def test_the_in_flight_bound_is_40_per_workspace_up_to_256_and_never_above_the_cap() -> None:
    assert in_flight_bound(0) == in_flight_bound(1) == 40
    assert in_flight_bound(3) == 120
    assert in_flight_bound(100) == MAX_IN_FLIGHT == 256
    assert in_flight_bound(100, cap=64) == 64
    assert in_flight_bound(1, cap=64) == 40
    assert in_flight_bound(1, cap=16) == 16
    assert in_flight_bound(3, cap=1) == 1


def generated(workspaces: int) -> tuple[SandboxConfig, dict[str, str]]:
    data: dict[str, Any] = {
        "workspaces": [],
        "tokens": [],
        "rate_limit": {"limit": 100000, "window_seconds": 10},
    }
    environ = {}
    for i in range(workspaces):
        admin = str(700_000 + i)
        data["workspaces"].append(
            {
                "id_code": f"ws{i:04d}x",
                "name": f"W {i}",
                "region": "US",
                "admins": [{"id": admin, "name": "A", "email": f"a{i}@gen.test"}],
            }
        )
        data["tokens"].append(
            {
                "value": f"gen-token-{i:04d}-abcdef",
                "workspace": f"ws{i:04d}x",
                "admin": admin,
                "permissions": "all",
            }
        )
        environ[f"TOKEN_{i}"] = f"gen-token-{i:04d}-abcdef"
    return SandboxConfig.from_dict(data), environ


class InFlight(httpx.AsyncBaseTransport):
    """The in-process sandbox, each answer a moment late, counting the most requests waiting at once."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._inner = SandboxTransport(sandbox)
        self.now = self.most = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(0.01)
            return await self._inner.handle_async_request(request)
        finally:
            self.now -= 1


@pytest.mark.parametrize(("cap", "expected"), [(None, 20), (5, 5)])
def test_the_run_keeps_more_in_flight_for_more_workspaces_up_to_the_cap(
    tmp_path: Path, cap: int | None, expected: int
) -> None:
    """20 workspaces: their 20 /me go out at once (a fixed bound of 16 held 4 back); --concurrency caps."""
    config, environ = generated(20)
    paths = [connector(tmp_path, f"c{i}", workspace=f"ws{i:04d}x", token_env=f"TOKEN_{i}") for i in range(20)]
    transport = InFlight(Sandbox(config))
    report = run(paths, environ, transport, concurrency=cap)
    assert report["outcome"] == "pass"
    assert transport.most >= expected if cap is None else transport.most <= expected
    assert transport.most <= in_flight_bound(20, cap)


class Counting(InFlight):
    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        self.total = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.total += 1
        return await super().handle_async_request(request)


EVERY_PERMISSION = (
    ALL_PERMISSIONS
    + """\
  tickets: [read, write]
  articles: [read, write]
  help_center: [read, write]
  notes: [read, write]
  segments: [read]
  admin_activity_logs: [read]
  events: [read, write]
"""
)


@pytest.mark.parametrize("permissions", [ALL_PERMISSIONS, EVERY_PERMISSION])
def test_one_connector_sends_all_its_probes_at_once_after_me(tmp_path: Path, permissions: str) -> None:
    """Two round trips: `/me`, then every probe, control and help-desk check of the connector together;
    the bound for one workspace must not hold any of them back for a third."""
    config, environ = generated(1)
    path = connector(tmp_path, "c0", workspace="ws0000x", token_env="TOKEN_0", permissions=permissions)
    transport = Counting(Sandbox(config))
    report = run([path], environ, transport)
    assert report["outcome"] == ("pass" if permissions == ALL_PERMISSIONS else report["outcome"])
    assert transport.most == transport.total - 1
