"""`Checker.identify` sends the one `GET /me`; `Checker.probe` reuses its answer and never asks again."""

from __future__ import annotations

import asyncio

import httpx

from validator.catalog import load_catalog
from validator.checker import Checker, Identified
from validator.intercom import IntercomClient
from validator.model import (
    Access,
    Auth,
    AuthMode,
    ConnectorSpec,
    DataType,
    Permission,
    TokenStatus,
    Workspace,
    WorkspaceStatus,
)
from validator.report import ConnectorResult

SPEC = ConnectorSpec(
    path="connector.yaml",
    name="phases",
    workspace=Workspace("first11ws", "First"),
    auth=Auth(AuthMode.ACCESS_TOKEN),
    permissions=(Permission(DataType.TAGS, Access.READ),),
)


def _me(id_code: str, name: str) -> httpx.Response:
    app = {"type": "app", "id_code": id_code, "name": name, "region": "US"}
    return httpx.Response(200, json={"type": "admin", "id": "1", "app": app})


def test_probe_describes_the_identity_it_was_given_and_sends_no_second_me() -> None:
    sent: list[str] = []
    names = iter([("first11ws", "First"), ("second22ws", "Second")])

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if request.url.path == "/me":
            return _me(*next(names))
        return httpx.Response(200, json={"type": "list", "data": []})

    async def go() -> tuple[Identified, Identified]:
        checker = Checker(load_catalog())
        client = IntercomClient(
            "https://api.intercom.io", "sandbox-phases-token", "2.15", transport=httpx.MockTransport(answer)
        )
        async with client:
            identified = await checker.identify(client, "TOKEN")
            result = await checker.probe(SPEC, client, identified)
        assert result.workspace is not None
        return identified, Identified(result.token, result.workspace.actual)

    identified, described = asyncio.run(go())

    assert sent.count("/me") == 1
    assert identified.token.status is TokenStatus.VALID and identified.identity is not None
    assert identified.identity.id == "first11ws"
    assert described == identified  # the result reports the identification it was handed, not a new one


def test_check_is_identify_then_probe() -> None:
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if request.url.path == "/me":
            return _me("first11ws", "First")
        return httpx.Response(200, json={"type": "list", "data": []})

    async def go() -> tuple[int, WorkspaceStatus]:
        client = IntercomClient(
            "https://api.intercom.io", "sandbox-phases-token", "2.15", transport=httpx.MockTransport(answer)
        )
        async with client:
            result = await Checker(load_catalog()).check(SPEC, client, "TOKEN")
        assert result.workspace is not None
        return len(result.permissions), result.workspace.status

    probed, status = asyncio.run(go())

    assert sent[0] == "/me" and sent.count("/me") == 1 and len(sent) == 2
    assert status is WorkspaceStatus.MATCH
    assert probed == 1


def test_durations_are_read_from_the_checkers_clock() -> None:
    """`/me` and each permission's probes are timed with the clock the checker is given (JUnit's `time`); a
    fixed clock in tests keeps reports stable, and a rejected token leaves the permissions unchecked."""
    ticks = iter(float(n) for n in range(100))

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/me":
            return _me("first11ws", "First")
        return httpx.Response(200, json={"type": "list", "data": []})

    async def go(transport: httpx.MockTransport) -> ConnectorResult:
        checker = Checker(load_catalog(), clock=lambda: next(ticks))
        client = IntercomClient(
            "https://api.intercom.io", "sandbox-phases-token", "2.15", transport=transport
        )
        async with client:
            return await checker.check(SPEC, client, "TOKEN")

    result = asyncio.run(go(httpx.MockTransport(answer)))
    assert result.token.elapsed == 1.0  # ticks 0 → 1 around GET /me
    assert [permission.elapsed for permission in result.permissions] == [1.0]  # ticks 2 → 3 around its probes
    assert result.not_checked == ()

    rejected = asyncio.run(
        go(
            httpx.MockTransport(
                lambda request: httpx.Response(401, json={"type": "error.list", "errors": []})
            )
        )
    )
    assert rejected.token.status is TokenStatus.REJECTED
    assert rejected.permissions == () and rejected.not_checked == SPEC.permissions
