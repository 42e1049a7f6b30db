"""Contract tests: the sandbox answers only what Intercom's OpenAPI description of 2.15 and 2.16 allows.

Policy
------
* Every *normal* answer the sandbox gives must be an operation and status that the description of the
  claimed version (the `Intercom-Version` header, else the default) documents, and its JSON body must
  validate against that response's schema. Normal answers are: success; a missing permission in the
  default style (401 `token_unauthorized`); an invalid body or an impossible id (400/404/422).
* Cross-cutting answers that Intercom documents globally rather than per route are allowed on any route
  through ONE allowlist, `ALLOWLIST` below; each entry cites its API-NOTES section. Their bodies must still
  validate against the generic `error` schema. The only non-JSON answer allowed is the injected HTML page
  of a failing proxy, which is not Intercom's answer at all.
* `GET /counts` is the only route outside the descriptions: a legacy endpoint documented up to 2.4
  (API-NOTES §5). It is checked for its legacy `count.hash` shape instead.
* The OAuth endpoints (`/oauth` on app.intercom.com, `POST /auth/eagle/token`) are not part of the REST API
  description at all; `tests/sandbox/test_sandbox_oauth.py` checks them against API-NOTES §7.

Scenarios are driven through the in-process transport; each one names the request and the status it must
get, so a scenario that silently stopped exercising its branch fails too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from contract.contract_checker import Allowed, Exchange, contract_problems
from contract.openapi_spec import VERSIONS
from validator.model import DataType
from validator.sandbox import FaultConfig, FaultKind, RateLimitConfig, Sandbox, SandboxTransport, TokenConfig
from validator.sandbox import fixtures as fx
from validator.sandbox.config import MissingPermissionStyle, default_config
from validator.sandbox.permissions import ROUTES

# The single allowlist of answers documented globally (API-NOTES sections cited) rather than per route.
ALLOWLIST: tuple[Allowed, ...] = (
    # §6: any route may answer 429 when the app's 10-second budget is spent.
    Allowed(429, frozenset({"rate_limit_exceeded"}), "rate limited, API-NOTES §6"),
    # §3 and §6: server errors (here injected faults) can come from any route.
    Allowed(range(500, 600), frozenset({"server_error"}), "server error, API-NOTES §3/§6"),
    # A proxy's HTML error page (injected `html` fault): not Intercom's JSON, so no schema applies.
    Allowed(range(500, 600), frozenset(), "proxy error page (injected fault)", json_body=False),
    # §3: newer endpoints answer a missing permission with 403 forbidden naming the scope; configurable
    # per route, so it may appear where the description documents only 401.
    Allowed(403, frozenset({"forbidden"}), "missing permission, 403 style, API-NOTES §3"),
    # §3: plan restrictions are per workspace and documented on conversations and messages; the sandbox
    # can restrict any data type.
    Allowed(403, frozenset({"api_plan_restricted"}), "feature not on the plan, API-NOTES §3"),
    # §3: token errors are 401 everywhere; a few operations (GET /me) omit 401 from their description.
    Allowed(
        401,
        frozenset({"unauthorized", "token_revoked", "token_unauthorized"}),
        "invalid/revoked token or missing permission on a route whose description omits 401, API-NOTES §3",
    ),
    # §1: an unknown Intercom-Version string.
    Allowed(400, frozenset({"intercom_version_invalid"}), "unknown Intercom-Version, API-NOTES §1"),
    # §1: "a missing or odd Accept can give 406".
    Allowed(406, frozenset({"not_acceptable"}), "Accept without JSON, API-NOTES §1"),
    # §3 "not found" and §5 people row: these single-contact routes document only 200/401 (2.16: also
    # 410), but an id that cannot exist must answer something; 404 is [INF].
    Allowed(
        404,
        frozenset({"not_found"}),
        "unknown contact id, API-NOTES §3/§5 [INF]",
        routes=frozenset({"GET /contacts/{contact_id}", "PUT /contacts/{contact_id}"}),
    ),
    # §5 and issue 9 item 10: a body the request schema refuses, sent to an object that exists. These
    # updates document no 400 (only 404, 403), but they must answer something that changes nothing; 400
    # parameter_invalid, as the routes that do document one answer [INF].
    Allowed(
        400,
        frozenset({"parameter_invalid"}),
        "a body the request schema refuses, on an existing object, API-NOTES §5 [INF]",
        routes=frozenset(
            {
                "PUT /contacts/{contact_id}",
                "PUT /companies/{company_id}",
                "PUT /conversations/{conversation_id}",
                "POST /conversations/{conversation_id}/parts",
                "POST /conversations",
                # the help-desk updates (issue 10): no 400 documented either
                "PUT /articles/{article_id}",
                "PUT /help_center/collections/{collection_id}",
            }
        ),
    ),
    # The notes routes document 200 and 404 only (POST /companies/{id}/notes also 401): a note without its
    # required `body`, on a contact or company that exists, must change nothing; 400 [INF].
    Allowed(
        400,
        frozenset({"parameter_invalid"}),
        "a note without its required body, on an existing contact or company [INF]",
        routes=frozenset({"POST /contacts/{contact_id}/notes", "POST /companies/{company_id}/notes"}),
    ),
    # GET /admins/activity_logs and GET /events document 200 and 401 only; a request without their
    # required parameters must answer something [INF].
    Allowed(
        400,
        frozenset({"parameter_not_found"}),
        "a list without its required query parameters [INF]",
        routes=frozenset({"GET /admins/activity_logs", "GET /events"}),
    ),
)

FULL = "sandbox-full-access-0001"
REVOKED = "sandbox-revoked-0003"
NOTHING = "contract-no-permissions"
UNKNOWN = "contract-not-a-token"
NO_CONTACT = "ffffffffffffffffffffffff"
CONTACT, COMPANY = fx.CONTACT_IDS[0], fx.COMPANY_IDS[0]
CONVERSATION, ADMIN = fx.CONVERSATION_IDS[0], "991267459"
CUSTOM_ATTRIBUTE = str(fx.CUSTOM_ATTRIBUTE_IDS[0])
TICKET, ARTICLE, COLLECTION = fx.TICKET_IDS[0], fx.ARTICLE_IDS[0], fx.COLLECTION_IDS[0]

# One concrete request per route that succeeds with full access; writes here are flagged as mutations.
SUCCESS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "GET /me": ("GET", "/me", None),
    "GET /contacts": ("GET", "/contacts?per_page=1", None),
    "GET /contacts/{id}": ("GET", f"/contacts/{CONTACT}", None),
    "PUT /contacts/{id}": ("PUT", f"/contacts/{CONTACT}", {"name": "Renamed"}),
    "POST /contacts/{id}/companies": ("POST", f"/contacts/{CONTACT}/companies", {"id": COMPANY}),
    "POST /companies/list": ("POST", "/companies/list?per_page=1", None),
    "POST /companies": ("POST", "/companies", {"company_id": "remote-9", "name": "New Co"}),
    "PUT /companies/{id}": ("PUT", f"/companies/{COMPANY}", {"name": "Renamed Co"}),
    "GET /conversations": ("GET", "/conversations?per_page=1", None),
    "POST /conversations": (
        "POST",
        "/conversations",
        {"from": {"type": "user", "id": CONTACT}, "body": "Hi"},
    ),
    "PUT /conversations/{id}": ("PUT", f"/conversations/{CONVERSATION}", {"read": True}),
    "POST /conversations/{id}/parts": (
        "POST",
        f"/conversations/{CONVERSATION}/parts",
        {"message_type": "close", "type": "admin", "admin_id": ADMIN},
    ),
    "GET /admins": ("GET", "/admins", None),
    "GET /admins/{id}": ("GET", f"/admins/{ADMIN}", None),
    "PUT /admins/{id}/away": (
        "PUT",
        f"/admins/{ADMIN}/away",
        {"away_mode_enabled": True, "away_mode_reassign": False},
    ),
    "GET /teams": ("GET", "/teams", None),
    "GET /tags": ("GET", "/tags", None),
    "POST /tags": ("POST", "/tags", {"name": "new tag"}),
    "GET /counts": ("GET", "/counts", None),
    "GET /data_attributes": ("GET", "/data_attributes?model=contact", None),
    "POST /data_attributes": (
        "POST",
        "/data_attributes",
        {"name": "shoe_size", "model": "contact", "data_type": "integer"},
    ),
    "PUT /data_attributes/{id}": ("PUT", f"/data_attributes/{CUSTOM_ATTRIBUTE}", {"description": "x"}),
    # the help-desk routes (issue 10)
    "POST /tickets/search": (
        "POST",
        "/tickets/search",
        {"query": {"field": "id", "operator": "=", "value": TICKET}, "pagination": {"per_page": 5}},
    ),
    "GET /ticket_types": ("GET", "/ticket_types", None),
    "GET /ticket_states": ("GET", "/ticket_states", None),
    "PUT /tickets/{id}": ("PUT", f"/tickets/{TICKET}", {"open": False}),
    "POST /tickets/{id}/linked_conversations": (
        "POST",
        f"/tickets/{TICKET}/linked_conversations",
        {"conversation_id": CONVERSATION},
    ),
    "GET /articles": ("GET", "/articles", None),
    "PUT /articles/{id}": ("PUT", f"/articles/{ARTICLE}", {"title": "Renamed"}),
    "POST /articles/{id}/tags": ("POST", f"/articles/{ARTICLE}/tags", {"id": fx.TAG_IDS[0]}),
    "GET /help_center/collections": ("GET", "/help_center/collections", None),
    "GET /help_center/help_centers": ("GET", "/help_center/help_centers", None),
    "PUT /help_center/collections/{id}": ("PUT", f"/help_center/collections/{COLLECTION}", {"name": "New"}),
    "GET /contacts/{id}/notes": ("GET", f"/contacts/{CONTACT}/notes", None),
    "GET /companies/{id}/notes": ("GET", f"/companies/{COMPANY}/notes", None),
    "POST /contacts/{id}/notes": ("POST", f"/contacts/{CONTACT}/notes", {"body": "Hello"}),
    "POST /companies/{id}/notes": ("POST", f"/companies/{COMPANY}/notes", {"body": "Hello"}),
    "GET /segments": ("GET", "/segments", None),
    "GET /admins/activity_logs": ("GET", "/admins/activity_logs?created_at_after=1734537200", None),
    "GET /events": ("GET", f"/events?type=user&intercom_user_id={CONTACT}", None),
    "POST /events": (
        "POST",
        "/events",
        {"event_name": "invited-friend", "created_at": 1734537243, "user_id": "70"},
    ),
}
# Successes that are not 200 (POST /events answers 202 with no content [DOC]).
SUCCESS_STATUS = {"POST /events": 202}
ROUTES_BY_KEY = {route.key: route for route in ROUTES}


def _in(version: str, route_key: str, expected: int) -> int:
    """The status a route answers in `version`: 400 intercom_version_invalid where it does not exist."""
    return 400 if version in ROUTES_BY_KEY[route_key].absent_in else expected


@dataclass(frozen=True)
class Case:
    """A request, the token it carries and the status the sandbox must answer."""

    name: str
    method: str
    target: str
    body: dict[str, Any] | None
    token: str
    expected: int
    versions: tuple[str, ...] = VERSIONS


# Invalid bodies and impossible ids, as the validator's write probes send them (API-NOTES §5), and more.
REJECTED: tuple[Case, ...] = (
    Case("tag without name", "POST", "/tags", {"test": "invalid"}, FULL, 400),
    Case("company with unknown field", "POST", "/companies", {"test": "invalid"}, FULL, 400),
    Case("company without id or name", "POST", "/companies", {}, FULL, 400),
    Case("unknown company", "PUT", f"/companies/{NO_CONTACT}", {}, FULL, 404),
    Case("unknown contact", "PUT", f"/contacts/{NO_CONTACT}", {}, FULL, 404),
    Case("read unknown contact", "GET", f"/contacts/{NO_CONTACT}", None, FULL, 404),
    Case("attach to unknown contact", "POST", f"/contacts/{NO_CONTACT}/companies", {}, FULL, 404),
    Case("attach without company", "POST", f"/contacts/{CONTACT}/companies", {}, FULL, 400),
    Case("attach unknown company", "POST", f"/contacts/{CONTACT}/companies", {"id": "nope"}, FULL, 404),
    Case("conversation 0", "PUT", "/conversations/0", {"read": True}, FULL, 404),
    Case(
        "conversation from unknown contact",
        "POST",
        "/conversations",
        {"from": {"type": "user", "id": NO_CONTACT}, "body": "Hi"},
        FULL,
        404,
    ),
    Case(
        "conversation without a body",
        "POST",
        "/conversations",
        {"from": {"type": "user", "id": CONTACT}},
        FULL,
        400,
    ),
    Case("close conversation 0", "POST", "/conversations/0/parts", {"message_type": "close"}, FULL, 404),
    Case("admin 0", "GET", "/admins/0", None, FULL, 404),
    Case(
        "away for admin 0",
        "PUT",
        "/admins/0/away",
        {"away_mode_enabled": False, "away_mode_reassign": False},
        FULL,
        404,
    ),
    Case("data attribute 0", "PUT", "/data_attributes/0", {"description": "x"}, FULL, 404),
    # The validator's write probe bodies (issue 9, item 10), on objects that exist: refused, 400.
    Case(
        "company, attributes not an object",
        "PUT",
        f"/companies/{COMPANY}",
        {"custom_attributes": "x"},
        FULL,
        400,
    ),
    Case(
        "conversation, boolean attribute",
        "PUT",
        f"/conversations/{CONVERSATION}",
        {"custom_attributes": {"invalid": True}},
        FULL,
        400,
    ),
    Case(
        "away, null flags",
        "PUT",
        f"/admins/{ADMIN}/away",
        {"away_mode_enabled": None, "away_mode_reassign": None},
        FULL,
        400,
    ),
    Case(
        "data attribute, description not a string",
        "PUT",
        f"/data_attributes/{CUSTOM_ATTRIBUTE}",
        {"description": ["invalid"]},
        FULL,
        400,
    ),
    Case("contact, email not a string", "PUT", f"/contacts/{CONTACT}", {"email": 5}, FULL, 400),
    Case(
        "close without admin",
        "POST",
        f"/conversations/{CONVERSATION}/parts",
        {"message_type": "close"},
        FULL,
        400,
    ),
    Case(
        "bad data type",
        "POST",
        "/data_attributes",
        {"name": "probe", "model": "company", "data_type": "mithril"},
        FULL,
        400,
    ),
    Case(
        "bad model",
        "POST",
        "/data_attributes",
        {"name": "probe", "model": "x", "data_type": "string"},
        FULL,
        400,
    ),
    Case("no name", "POST", "/data_attributes", {"model": "company", "data_type": "string"}, FULL, 400),
    Case(
        "existing name",
        "POST",
        "/data_attributes",
        {"name": "tier", "model": "company", "data_type": "string"},
        FULL,
        400,
    ),
    Case(
        "conversation model, 2.16", "GET", "/data_attributes?model=conversation", None, FULL, 422, ("2.16",)
    ),
    Case(
        "conversation model, 2.15", "GET", "/data_attributes?model=conversation", None, FULL, 200, ("2.15",)
    ),
    Case("all data attributes", "GET", "/data_attributes", None, FULL, 200),
    Case("company data attributes", "GET", "/data_attributes?model=company", None, FULL, 200),
    Case("all contacts", "GET", "/contacts", None, FULL, 200),
    Case("revoked token", "GET", "/contacts", None, REVOKED, 401),
    # the help-desk probes (issue 10): impossible ids, then their refused bodies on objects that exist
    Case(
        "search ticket 0",
        "POST",
        "/tickets/search",
        {"query": {"field": "id", "operator": "=", "value": "0"}, "pagination": {"per_page": 1}},
        FULL,
        200,
    ),
    Case("search without a query", "POST", "/tickets/search", {}, FULL, 200),
    Case("ticket 0", "PUT", "/tickets/0", {"ticket_attributes": "invalid"}, FULL, 404),
    Case(
        "ticket, attributes not an object", "PUT", f"/tickets/{TICKET}", {"ticket_attributes": "x"}, FULL, 400
    ),
    Case("link to ticket 0", "POST", "/tickets/0/linked_conversations", {}, FULL, 404, ("2.16",)),
    Case(
        "link without conversation",
        "POST",
        f"/tickets/{TICKET}/linked_conversations",
        {},
        FULL,
        400,
        ("2.16",),
    ),
    Case(
        "link unknown conversation",
        "POST",
        f"/tickets/{TICKET}/linked_conversations",
        {"conversation_id": "0"},
        FULL,
        404,
        ("2.16",),
    ),
    Case("link, 2.15", "POST", "/tickets/0/linked_conversations", {}, FULL, 400, ("2.15",)),
    Case("article 0", "PUT", "/articles/0", {"translated_content": "invalid"}, FULL, 404),
    Case(
        "article, content not an object",
        "PUT",
        f"/articles/{ARTICLE}",
        {"translated_content": "x"},
        FULL,
        400,
    ),
    Case("tag article 0", "POST", "/articles/0/tags", {}, FULL, 404, ("2.16",)),
    Case("tag article without tag", "POST", f"/articles/{ARTICLE}/tags", {}, FULL, 404, ("2.16",)),
    Case("collection 0", "PUT", "/help_center/collections/0", {"translated_content": "invalid"}, FULL, 404),
    Case(
        "collection, content not an object",
        "PUT",
        f"/help_center/collections/{COLLECTION}",
        {"translated_content": "x"},
        FULL,
        400,
    ),
    Case("notes of no contact", "GET", f"/contacts/{NO_CONTACT}/notes", None, FULL, 404),
    Case("notes of no company", "GET", f"/companies/{NO_CONTACT}/notes", None, FULL, 404),
    Case("note on no contact", "POST", f"/contacts/{NO_CONTACT}/notes", {}, FULL, 404),
    Case("note without body", "POST", f"/contacts/{CONTACT}/notes", {}, FULL, 400),
    Case("note on no company", "POST", f"/companies/{NO_CONTACT}/notes", {}, FULL, 404, ("2.16",)),
    Case("company note without body", "POST", f"/companies/{COMPANY}/notes", {}, FULL, 400, ("2.16",)),
    Case(
        "activity logs of one second",
        "GET",
        "/admins/activity_logs?created_at_after=1677253093&created_at_before=1677253094",
        None,
        FULL,
        200,
    ),
    Case("activity logs without after", "GET", "/admins/activity_logs", None, FULL, 400),
    Case(
        "events of no user",
        "GET",
        "/events?type=user&intercom_user_id=000000000000000000000000&per_page=1",
        None,
        FULL,
        200,
    ),
    Case("events without a user", "GET", "/events?type=user", None, FULL, 400),
)


def _config_with_probe_tokens() -> Any:
    base = default_config()
    nothing = TokenConfig(value=NOTHING, workspace="abc12xyz", admin=ADMIN, permissions=frozenset())
    return dataclasses.replace(base, tokens=(*base.tokens, nothing))


def _exchange(sandbox: Sandbox, case: Case, version: str, **headers: str) -> Exchange:
    with httpx.Client(transport=SandboxTransport(sandbox), base_url="https://api.intercom.io") as client:
        response = client.request(
            case.method,
            case.target,
            json=case.body,
            headers={"Authorization": f"Bearer {case.token}", "Intercom-Version": version, **headers},
        )
    return Exchange(
        version=headers.get("Intercom-Version", version),
        method=case.method,
        path=case.target,
        status=response.status_code,
        body=response.content,
        content_type=response.headers.get("content-type", ""),
    )


def _assert_conforms(exchange: Exchange, case: Case) -> None:
    assert exchange.status == case.expected, (
        f"{case.name}: got {exchange.status}, body {exchange.body[:200]!r}"
    )
    assert contract_problems(exchange, ALLOWLIST) == []


def _success_cases(version: str) -> Iterator[Case]:
    for key, (method, target, body) in SUCCESS.items():
        yield Case(
            f"success {key}", method, target, body, FULL, _in(version, key, SUCCESS_STATUS.get(key, 200))
        )


def _permission_cases(version: str) -> Iterator[Case]:
    for route in ROUTES:
        method, target, body = SUCCESS[route.key]
        if route.required is not None:
            missing = _in(version, route.key, 401)
            yield Case(f"missing permission {route.key}", method, target, body, NOTHING, missing)
        yield Case(f"invalid token {route.key}", method, target, body, UNKNOWN, 401)


@pytest.fixture
def probe_sandbox() -> Sandbox:
    return Sandbox(_config_with_probe_tokens())


def test_every_sandbox_route_has_a_success_scenario() -> None:
    assert set(SUCCESS) == {route.key for route in ROUTES}


@pytest.mark.allows_mutation
@pytest.mark.parametrize("version", VERSIONS)
def test_successful_answers_are_documented_and_validate(probe_sandbox: Sandbox, version: str) -> None:
    cases = list(_success_cases(version))
    for case in cases:
        _assert_conforms(_exchange(probe_sandbox, case, version), case)
    writes = {entry.route for entry in probe_sandbox.log.mutations}
    assert writes == {route.key for route in ROUTES if route.is_write and version not in route.absent_in}


@pytest.mark.parametrize("version", VERSIONS)
def test_rejected_requests_are_documented_and_validate(probe_sandbox: Sandbox, version: str) -> None:
    for case in REJECTED:
        if version in case.versions:
            _assert_conforms(_exchange(probe_sandbox, case, version), case)


@pytest.mark.parametrize("version", VERSIONS)
def test_token_and_permission_errors_are_documented_and_validate(
    probe_sandbox: Sandbox, version: str
) -> None:
    for case in _permission_cases(version):
        _assert_conforms(_exchange(probe_sandbox, case, version), case)


@pytest.mark.parametrize("version", VERSIONS)
def test_cross_cutting_answers_validate_against_the_error_schema(version: str) -> None:
    base = _config_with_probe_tokens()
    acme = base.workspaces[0]
    forbidding = dataclasses.replace(
        acme, missing_permission_style={"default": MissingPermissionStyle.FORBIDDEN}
    )
    restricted = dataclasses.replace(acme, plan_restricted=frozenset(DataType))
    styled = Sandbox(dataclasses.replace(base, workspaces=(forbidding, *base.workspaces[1:])))
    plan = Sandbox(dataclasses.replace(base, workspaces=(restricted, *base.workspaces[1:])))
    limited = Sandbox(dataclasses.replace(base, rate_limit=RateLimitConfig(limit=1, window_seconds=3600)))
    faulty = Sandbox(base)

    for route in ROUTES:
        method, target, body = SUCCESS[route.key]
        if route.required is not None:
            case = Case(f"403 style {route.key}", method, target, body, NOTHING, _in(version, route.key, 403))
            _assert_conforms(_exchange(styled, case, version), case)
        if route.data_type is not None:
            # The plan is checked before the endpoint runs, so even writes change nothing here.
            case = Case(f"plan {route.key}", method, target, body, FULL, _in(version, route.key, 403))
            _assert_conforms(_exchange(plan, case, version), case)
        for kind, status in ((FaultKind.STATUS, 503), (FaultKind.HTML, 502), (FaultKind.RATE_LIMIT, 429)):
            faulty.add_fault(FaultConfig(route=route.key, kind=kind, status=status, times=1))
            case = Case(f"{kind} {route.key}", method, target, body, FULL, status)
            _assert_conforms(_exchange(faulty, case, version), case)

    first = Case("within budget", "GET", "/tags", None, FULL, 200)
    over = Case("over budget", "GET", "/tags", None, FULL, 429)
    _assert_conforms(_exchange(limited, first, version), first)
    _assert_conforms(_exchange(limited, over, version), over)

    odd_accept = Case("odd Accept", "GET", "/tags", None, FULL, 406)
    exchange = _exchange(faulty, odd_accept, version, Accept="text/csv")
    _assert_conforms(exchange, odd_accept)


def test_unknown_version_answers_400_that_validates_as_an_error() -> None:
    sandbox = Sandbox()
    case = Case("unknown version", "GET", "/tags", None, FULL, 400)
    exchange = _exchange(sandbox, case, "9.99")
    assert exchange.error_code == "intercom_version_invalid"
    # Checked against the version the sandbox falls back to describing: its default.
    _assert_conforms(dataclasses.replace(exchange, version=sandbox.config.default_api_version), case)
