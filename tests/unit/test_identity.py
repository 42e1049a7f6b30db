"""`GET /me` decides whether anything is probed: only Intercom's own 401 rejects the token."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from validator.catalog import load_catalog
from validator.checker import Checker
from validator.intercom import IntercomClient, RetryPolicy
from validator.model import Access, Auth, AuthMode, ConnectorSpec, DataType, Permission, Workspace
from validator.report import ConnectorResult, ExitCode, TokenStatus, Verdict

SPEC = ConnectorSpec(
    path="connector.yaml",
    name="identity",
    workspace=Workspace("abc12xyz"),
    auth=Auth(AuthMode.ACCESS_TOKEN),
    permissions=(Permission(DataType.TAGS, Access.READ),),
)
ME = {
    "type": "admin",
    "id": "1",
    "app": {"type": "app", "id_code": "abc12xyz", "name": "Acme", "region": "US"},
}


def check(me: httpx.Response) -> tuple[ConnectorResult, list[str]]:
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if request.url.path == "/me":
            return me
        return httpx.Response(200, json={"type": "list", "data": []})

    async def no_wait(seconds: float) -> None:
        return None

    async def go() -> ConnectorResult:
        client = IntercomClient(
            "https://api.intercom.io",
            "sandbox-identity-token",
            "2.15",
            transport=httpx.MockTransport(answer),
            retry=RetryPolicy(jitter=0.0),
            sleep=no_wait,
        )
        async with client:
            return await Checker(load_catalog()).check(SPEC, client, "TOKEN")

    return asyncio.run(go()), sent


def error(code: str) -> dict[str, Any]:
    return {"type": "error.list", "request_id": None, "errors": [{"code": code, "message": "x"}]}


@pytest.mark.parametrize("code", ["unauthorized", "token_revoked", "token_unauthorized", "something_new"])
def test_a_401_in_intercoms_envelope_rejects_the_token_and_nothing_is_probed(code: str) -> None:
    result, sent = check(httpx.Response(401, json=error(code)))
    assert result.token.status is TokenStatus.REJECTED and result.token.error_code == code
    assert result.exit_code is ExitCode.TOKEN_REJECTED
    assert sent == ["/me"]


@pytest.mark.parametrize(
    "me",
    [
        httpx.Response(401, text="<html>401 from a proxy</html>"),
        httpx.Response(200, json={"type": "list", "data": []}),
        httpx.Response(200, json={"type": "admin", "id": "1"}),
        httpx.Response(200, text="ok"),
        httpx.Response(503),
        httpx.Response(302, headers={"Location": "https://elsewhere.example/"}),
    ],
    ids=["proxy-401", "wrong-type", "no-app", "not-json", "5xx", "redirect"],
)
def test_an_answer_from_me_that_is_not_understood_probes_nothing_and_is_inconclusive(
    me: httpx.Response,
) -> None:
    result, sent = check(me)
    assert result.token.status is TokenStatus.UNKNOWN
    assert [item.verdict for item in result.permissions] == [Verdict.INCONCLUSIVE]
    assert result.exit_code is ExitCode.INCONCLUSIVE
    assert "/tags" not in sent


def test_a_valid_me_leads_to_the_probes() -> None:
    result, sent = check(httpx.Response(200, json=ME))
    assert result.token.status is TokenStatus.VALID
    assert [item.verdict for item in result.permissions] == [Verdict.GRANTED]
    assert sent[0] == "/me" and "/tags" in sent
