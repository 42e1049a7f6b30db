"""`GET /me` decides whether anything is probed: only Intercom's own 401 rejects the token."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import httpx
import pytest

from validator.catalog import load_catalog
from validator.checker import Checker
from validator.errors import ExitCode
from validator.intercom import IntercomClient
from validator.model import (
    Access,
    Auth,
    AuthMode,
    ConnectorSpec,
    DataType,
    Permission,
    Region,
    TokenStatus,
    Verdict,
    Workspace,
    WorkspaceStatus,
)
from validator.pacing import RetryPolicy
from validator.report import ConnectorResult, WorkspaceCheck

SPEC = ConnectorSpec(
    path="connector.yaml",
    name="identity",
    workspace=Workspace("abc12xyz"),
    auth=Auth(AuthMode.ACCESS_TOKEN),
    permissions=(Permission(DataType.TAGS, Access.READ),),
)
ME: dict[str, Any] = {
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


@pytest.mark.parametrize(
    "code", ["unauthorized", "token_revoked", "token_expired", "missing_authorization", "something_new"]
)
def test_a_401_in_intercoms_envelope_rejects_the_token_and_nothing_is_probed(code: str) -> None:
    result, sent = check(httpx.Response(401, json=error(code)))
    assert result.token.status is TokenStatus.REJECTED and result.token.error_code == code
    assert result.exit_code is ExitCode.TOKEN_REJECTED
    assert sent == ["/me"]


def check_with(me: httpx.Response, probe: httpx.Response) -> tuple[ConnectorResult, list[str]]:
    """Like `check`, with `probe` as every probe's answer."""
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return me if request.url.path == "/me" else probe

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


TAG_LIST = httpx.Response(200, json={"type": "list", "data": []})
REFUSED_ME = [
    httpx.Response(401, json=error("token_unauthorized")),
    httpx.Response(
        403,
        json={
            "type": "error.list",
            "errors": [{"code": "forbidden", "message": "You do not have the required scope (read_admins)"}],
        },
    ),
]


@pytest.mark.parametrize("me", REFUSED_ME, ids=["401-token_unauthorized", "403-forbidden-scope"])
def test_me_refused_to_a_valid_token_leaves_the_workspace_unverified_and_still_probes(
    me: httpx.Response,
) -> None:
    """Issue 10 item 3: /me may need "Read admins"; a valid token refused it is not a rejected token."""
    result, sent = check_with(me, TAG_LIST)
    assert result.token.status is TokenStatus.VALID
    assert result.workspace is not None and result.workspace.status is WorkspaceStatus.UNVERIFIED
    assert result.workspace.actual is None
    assert sent == ["/me", "/tags"]
    assert [item.verdict for item in result.permissions] == [Verdict.GRANTED]
    assert result.exit_code is ExitCode.FAILED
    [evidence] = result.token.evidence
    assert (evidence.http_status, evidence.note is not None) == (me.status_code, True)
    assert "Read admins" in (evidence.note or "")


@pytest.mark.parametrize("code", ["unauthorized", "token_revoked", "token_suspended", "something_new"])
def test_a_later_refusal_of_the_token_itself_means_rejected(code: str) -> None:
    result, sent = check_with(
        httpx.Response(401, json=error("token_unauthorized")), httpx.Response(401, json=error(code))
    )
    assert sent == ["/me", "/tags"]
    assert result.token.status is TokenStatus.REJECTED and result.token.error_code == code
    assert result.exit_code is ExitCode.TOKEN_REJECTED
    assert result.permissions == () and result.workspace is None
    assert [item.path for item in result.token.evidence] == ["/me", "/tags"]
    assert "/tags" in (result.token.message or "") and "rejected" in (result.token.message or "")


def test_a_missing_permission_after_an_unreadable_me_is_missing_not_rejected() -> None:
    result, _ = check_with(
        httpx.Response(401, json=error("token_unauthorized")),
        httpx.Response(401, json=error("token_unauthorized")),
    )
    assert result.token.status is TokenStatus.VALID
    assert [item.verdict for item in result.permissions] == [Verdict.MISSING]
    assert result.exit_code is ExitCode.FAILED


def test_an_unauthorized_probe_after_a_working_me_stays_inconclusive() -> None:
    """Only an unverified token is judged by a probe's refusal; with /me read, /me has the last word."""
    result, _ = check_with(httpx.Response(200, json=ME), httpx.Response(401, json=error("unauthorized")))
    assert result.token.status is TokenStatus.VALID
    assert [item.verdict for item in result.permissions] == [Verdict.INCONCLUSIVE]


@pytest.mark.parametrize(
    "me",
    [
        httpx.Response(401, text="<html>401 from a proxy</html>"),
        httpx.Response(200, json={"type": "list", "data": []}),
        httpx.Response(200, json={"type": "admin", "id": "1"}),
        httpx.Response(200, text="ok"),
        httpx.Response(503),
        httpx.Response(302, headers={"Location": "https://elsewhere.example/"}),
        # An admin in name only: the right `type` and an app, but not the shape Intercom documents.
        httpx.Response(200, json={"type": "admin", "app": {"type": "app", "id_code": "abc12xyz"}}),
        httpx.Response(200, json={**ME, "id": 1}),
        httpx.Response(200, json={**ME, "app": {**ME["app"], "type": "workspace"}}),
        # The documented body, but not served as JSON: a proxy's page, not Intercom's answer.
        httpx.Response(200, content=json.dumps(ME).encode(), headers={"Content-Type": "text/html"}),
        httpx.Response(200, content=json.dumps(ME).encode()),
    ],
    ids=[
        *("proxy-401", "wrong-type", "no-app", "not-json", "5xx", "redirect", "no-id", "int-id", "app-type"),
        *("html-media-type", "no-media-type"),
    ],
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


def workspace_check(
    app: dict[str, Any], *, name: str | None = "Acme", region: Region = Region.US
) -> WorkspaceCheck:
    spec = replace(SPEC, workspace=Workspace("abc12xyz", name, region))
    me = {"type": "admin", "id": "1", "app": {"type": "app", **app}}

    async def go() -> ConnectorResult:
        client = IntercomClient(
            "https://api.intercom.io",
            "sandbox-identity-token",
            "2.15",
            transport=httpx.MockTransport(
                lambda request: (
                    httpx.Response(200, json=me)
                    if request.url.path == "/me"
                    else httpx.Response(200, json={"type": "list", "data": []})
                )
            ),
        )
        async with client:
            return await Checker(load_catalog()).check(spec, client, "TOKEN")

    workspace = asyncio.run(go()).workspace
    assert workspace is not None
    return workspace


@pytest.mark.parametrize(
    ("sent", "declared"),
    [
        ("Acme\u200bSupport", "Acme?Support"),  # shown as "Acme?Support": never compared as shown
        ("Acme\u200bSupport", "AcmeSupport"),  # an invisible character is a character
        ("Acme\u202eSupport", "Acme?Support"),
        ("Acme\nSupport", "Acme?Support"),
        ("N" * 199 + "tail", "N" * 199 + "…"),  # shown cut at 200: the cut text is not the name
        ("N" * 250, "N" * 199 + "…"),
        ("Acme Support ", "Acme Support"),  # nothing is trimmed
        ("acme support", "Acme Support"),  # nor case-folded
        ("\uff21\uff43\uff4d\uff45", "Acme"),  # nor compatibility-mapped (NFKC would match these)
    ],
    ids=[
        "zwsp-as-shown",
        "zwsp-dropped",
        "bidi",
        "newline",
        "cut-prefix",
        "cut-longer",
        "space",
        "case",
        "nfkc",
    ],
)
def test_the_name_is_compared_as_intercom_sent_it_never_as_shown(sent: str, declared: str) -> None:
    check = workspace_check({"id_code": "abc12xyz", "name": sent, "region": "US"}, name=declared)
    assert check.status is WorkspaceStatus.MISMATCH and check.mismatches == ("name",)
    assert check.actual is not None and check.actual.sent_name == sent


def test_the_shown_name_is_printable_and_cut_but_the_sent_one_is_kept_whole() -> None:
    sent = "Acme\u200bSupport " + "x" * 300
    check = workspace_check({"id_code": "abc12xyz", "name": sent, "region": "US"})
    assert check.actual is not None
    assert check.actual.name is not None and len(check.actual.name) == 200 and check.actual.name.endswith("…")
    assert check.actual.name.startswith("Acme?Support ")
    assert check.actual.sent_name == sent


def test_names_that_are_the_same_text_in_two_unicode_forms_match() -> None:
    composed, decomposed = "Caf\u00e9 Support", "Cafe\u0301 Support"
    for sent, declared in ((composed, decomposed), (decomposed, composed), (composed, composed)):
        check = workspace_check({"id_code": "abc12xyz", "name": sent, "region": "US"}, name=declared)
        assert check.status is WorkspaceStatus.MATCH, (sent, declared)


def test_a_name_of_exactly_200_characters_matches_although_a_longer_one_would_be_cut() -> None:
    name = "N" * 200
    check = workspace_check({"id_code": "abc12xyz", "name": name, "region": "US"}, name=name)
    assert check.status is WorkspaceStatus.MATCH


@pytest.mark.parametrize(
    "sent_id",
    ["abc12xyz\u200b", "abc12xy\u200bz", "ABC12XYZ", "abc12xyz ", "abc12xyz" + "z" * 300],
    ids=["zwsp-end", "zwsp-inside", "case", "space", "long"],
)
def test_the_id_is_compared_exactly_as_sent(sent_id: str) -> None:
    check = workspace_check({"id_code": sent_id, "name": "Acme", "region": "US"})
    assert check.status is WorkspaceStatus.MISMATCH and "id" in check.mismatches


@pytest.mark.parametrize("sent", ["US", "us", "Us"])
def test_the_region_is_compared_in_any_ascii_case(sent: str) -> None:
    check = workspace_check({"id_code": "abc12xyz", "name": "Acme", "region": sent})
    assert check.status is WorkspaceStatus.MATCH


@pytest.mark.parametrize(
    "sent",
    ["U\u200bS", "US ", "USA", "\uff35\uff33", "u\u0455", "EU"],
    ids=["zwsp", "space", "longer", "fullwidth", "cyrillic-dze", "other"],
)
def test_a_region_that_is_not_exactly_the_declared_one_mismatches(sent: object) -> None:
    check = workspace_check({"id_code": "abc12xyz", "name": "Acme", "region": sent})
    assert check.status is WorkspaceStatus.MISMATCH and check.mismatches == ("region",)


@pytest.mark.parametrize("sent", [None, 1, ["US"]], ids=["null", "number", "list"])
def test_a_region_that_is_not_text_is_not_the_documented_me_and_never_matches(sent: object) -> None:
    check = workspace_check({"id_code": "abc12xyz", "name": "Acme", "region": sent})
    assert check.status is WorkspaceStatus.UNKNOWN


def test_a_look_alike_region_is_shown_as_sent_never_lowered_into_a_known_one() -> None:
    check = workspace_check({"id_code": "abc12xyz", "name": "Acme", "region": "\u212aU"}, region=Region.US)
    assert check.actual is not None and check.actual.region == "\u212aU"
