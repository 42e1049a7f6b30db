"""Every route enforces its Developer Hub permission, in the configured style (API-NOTES §3, §4)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from sandbox.support import FULL, NO_WRITE_TAGS, client_for, error_code, token, with_tokens
from validator.catalog import load_catalog
from validator.model import DataType
from validator.sandbox import RateLimitConfig, Sandbox
from validator.sandbox import fixtures as fx
from validator.sandbox.config import MissingPermissionStyle
from validator.sandbox.permissions import (
    ALL_LABELS,
    ROUTES,
    ROUTES_BY_KEY,
    SCOPE_IDS,
    Label,
    Route,
    match_route,
)

# A request per route that needs no existing record and changes nothing when permitted. The write routes the
# validator probes send the catalog's own probe (validator/catalog/intercom.yaml), so that these tests see
# exactly what the validator sends; the others a request of the same kind (an impossible id, or a body the
# route refuses).
HARMLESS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "GET /me": ("GET", "/me", None),
    "GET /contacts": ("GET", "/contacts?per_page=1", None),
    "GET /contacts/{id}": ("GET", f"/contacts/{fx.CONTACT_IDS[0]}", None),
    "PUT /contacts/{id}": ("PUT", "/contacts/ffffffffffffffffffffffff", {"email": ["invalid"]}),
    "POST /companies/list": ("POST", "/companies/list?per_page=1", None),
    "POST /companies": ("POST", "/companies", {"test": "invalid"}),
    "GET /conversations": ("GET", "/conversations?per_page=1", None),
    "POST /conversations/{id}/parts": ("POST", "/conversations/0/parts", {"message_type": "close"}),
    "GET /admins": ("GET", "/admins", None),
    "GET /admins/{id}": ("GET", "/admins/991267459", None),
    "GET /teams": ("GET", "/teams", None),
    "GET /tags": ("GET", "/tags", None),
    "GET /counts": ("GET", "/counts", None),
    "GET /data_attributes": ("GET", "/data_attributes?model=contact", None),
    "POST /data_attributes": (
        "POST",
        "/data_attributes",
        {"name": "probe", "model": "company", "data_type": "mithril"},
    ),
    # the help-desk reads (API-NOTES §8)
    "POST /tickets/search": (
        "POST",
        "/tickets/search",
        {"query": {"field": "id", "operator": "=", "value": "0"}, "pagination": {"per_page": 1}},
    ),
    "GET /ticket_types": ("GET", "/ticket_types", None),
    "GET /ticket_states": ("GET", "/ticket_states", None),
    "GET /articles": ("GET", "/articles", None),
    "GET /help_center/collections": ("GET", "/help_center/collections", None),
    "GET /help_center/help_centers": ("GET", "/help_center/help_centers", None),
    "GET /contacts/{id}/notes": ("GET", "/contacts/ffffffffffffffffffffffff/notes", None),
    "GET /companies/{id}/notes": ("GET", "/companies/ffffffffffffffffffffffff/notes", None),
    "GET /segments": ("GET", "/segments", None),
    "GET /admins/activity_logs": ("GET", "/admins/activity_logs?created_at_after=1677253093", None),
    "GET /events": ("GET", "/events?type=user&intercom_user_id=ffffffffffffffffffffffff", None),
    # A tripwire no probe sends (API-NOTES §8: no safe form): whatever reaches it counts as a mutation,
    # so the tests below that hold the permission skip it; `test_post_events_is_a_tripwire` covers it.
    "POST /events": ("POST", "/events", {}),
}
TRIPWIRES = {"POST /events"}


def _with_catalog_probes(harmless: dict[str, tuple[str, str, dict[str, Any] | None]]) -> None:
    for probe in load_catalog().all_probes():
        if probe.method == "GET" or any(rule.status < 300 for rule in probe.answers):
            continue  # a read
        matched = match_route(probe.method, probe.path)
        assert matched is not None and matched[0].key not in harmless, probe.path
        harmless[matched[0].key] = (probe.method, probe.path, dict(probe.body or {}))


_with_catalog_probes(HARMLESS)

GUARDED = [route for route in ROUTES if route.required is not None]


def _send(sandbox: Sandbox, value: str | None, route: Route, **headers: str) -> Any:
    method, target, body = HARMLESS[route.key]
    with client_for(sandbox, value, **headers) as client:
        return client.request(method, target, json=body)


def _all_but(route: Route) -> frozenset[Label]:
    return ALL_LABELS - {route.required} - route.also_accepted


def test_the_route_table_covers_the_notes() -> None:
    assert {route.key for route in ROUTES} == set(HARMLESS)
    assert match_route("POST", "/companies/list") == (ROUTES_BY_KEY["POST /companies/list"], None)
    assert not ROUTES_BY_KEY["POST /companies/list"].is_write  # a read despite the verb (API-NOTES §5)
    assert match_route("PUT", "/companies/abc")[0].key == "PUT /companies/{id}"  # type: ignore[index]
    assert match_route("DELETE", "/tags") is None


@pytest.mark.parametrize("route", [r for r in ROUTES if r.key not in TRIPWIRES], ids=lambda r: r.key)
def test_full_access_is_never_refused_for_permission(route: Route) -> None:
    response = _send(Sandbox(), FULL, route)
    assert response.status_code not in (401, 403), response.text
    assert response.status_code < 500


@pytest.mark.parametrize("route", GUARDED, ids=lambda r: r.key)
def test_a_token_without_the_permission_gets_401_token_unauthorized(route: Route) -> None:
    sandbox = Sandbox(with_tokens(token("lacking", *_all_but(route))))
    response = _send(sandbox, "lacking", route)
    assert response.status_code == 401
    assert error_code(response) == "token_unauthorized"
    assert response.json()["errors"][0]["message"] == "Not authorized to access resource"
    assert response.headers["X-RateLimit-Remaining"]  # the credentials themselves were valid


@pytest.mark.parametrize("route", GUARDED, ids=lambda r: r.key)
def test_a_route_configured_for_403_names_the_scope(route: Route) -> None:
    base = with_tokens(token("lacking", *_all_but(route)))
    acme = dataclasses.replace(
        base.workspaces[0], missing_permission_style={route.key: MissingPermissionStyle.FORBIDDEN}
    )
    sandbox = Sandbox(dataclasses.replace(base, workspaces=(acme, *base.workspaces[1:])))
    response = _send(sandbox, "lacking", route)
    assert response.status_code == 403
    scope = SCOPE_IDS[route.required]  # type: ignore[index]
    assert response.json()["errors"][0] == {
        "code": "forbidden",
        "message": f"You do not have the required scope ({scope}) to access this resource",
    }


def test_the_403_style_applies_only_to_the_routes_configured() -> None:
    base = with_tokens(token("nothing"))
    acme = dataclasses.replace(
        base.workspaces[0], missing_permission_style={"GET /conversations": MissingPermissionStyle.FORBIDDEN}
    )
    sandbox = Sandbox(dataclasses.replace(base, workspaces=(acme, *base.workspaces[1:])))
    with client_for(sandbox, "nothing") as client:
        assert client.get("/conversations").status_code == 403
        assert client.get("/contacts").status_code == 401


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_an_invalid_token_gets_401_unauthorized_without_rate_limit_headers(route: Route) -> None:
    response = _send(Sandbox(), "not-a-token-we-know", route)
    assert response.status_code == 401
    assert response.json()["errors"][0] == {"code": "unauthorized", "message": "Access Token Invalid"}
    assert "X-RateLimit-Limit" not in response.headers


@pytest.mark.parametrize("route", [r for r in ROUTES if r.key not in TRIPWIRES], ids=lambda r: r.key)
def test_an_over_budget_client_gets_429_with_the_headers(route: Route) -> None:
    sandbox = Sandbox(with_tokens(rate_limit=RateLimitConfig(limit=2, window_seconds=10)))
    _send(sandbox, FULL, route)
    _send(sandbox, FULL, route)
    response = _send(sandbox, FULL, route)
    assert response.status_code == 429
    assert response.json()["errors"][0] == {
        "code": "rate_limit_exceeded",
        "message": "Exceeded rate limit of 2 in 10_seconds",
    }
    assert response.headers["X-RateLimit-Limit"] == "2"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) % 10 == 0
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(
    ("path", "one_label"),
    [
        (f"/contacts/{fx.CONTACT_IDS[0]}", Label.READ_ONE_USER_COMPANY),
        ("/admins/991267459", Label.READ_ONE_ADMIN),
    ],
)
def test_single_record_reads_accept_the_one_record_label(path: str, one_label: Label) -> None:
    sandbox = Sandbox(with_tokens(token("one", one_label)))
    with client_for(sandbox, "one") as client:
        assert client.get(path).status_code == 200
        assert client.get(path.rsplit("/", 1)[0]).status_code == 401  # but not the list


def test_the_demo_token_reads_tags_but_cannot_write_them() -> None:
    with client_for(Sandbox(), NO_WRITE_TAGS) as client:
        assert client.get("/tags").status_code == 200
        refused = client.post("/tags", json={"test": "invalid"})
        assert (refused.status_code, error_code(refused)) == (401, "token_unauthorized")
        assert client.post("/companies", json={"test": "invalid"}).status_code == 400


def test_me_needs_no_permission() -> None:
    sandbox = Sandbox(with_tokens(token("nothing")))
    with client_for(sandbox, "nothing") as client:
        assert client.get("/me").status_code == 200


def test_permission_is_checked_before_the_plan() -> None:
    base = with_tokens(token("nothing"))
    acme = dataclasses.replace(base.workspaces[0], plan_restricted=frozenset({DataType.CONVERSATIONS}))
    sandbox = Sandbox(dataclasses.replace(base, workspaces=(acme, *base.workspaces[1:])))
    with client_for(sandbox, FULL) as full, client_for(sandbox, "nothing") as nothing:
        restricted = full.get("/conversations")
        assert (restricted.status_code, error_code(restricted)) == (403, "api_plan_restricted")
        assert restricted.json()["errors"][0]["message"] == "Active subscription needed."
        assert full.get("/contacts").status_code == 200
        assert error_code(nothing.get("/conversations")) == "token_unauthorized"


@pytest.mark.parametrize("route", GUARDED, ids=lambda r: r.key)
def test_a_withheld_route_is_refused_although_the_labels_grant_it(route: Route) -> None:
    withheld = dataclasses.replace(token("withheld", *ALL_LABELS), withheld_routes=frozenset({route.key}))
    sandbox = Sandbox(with_tokens(withheld))
    assert error_code(_send(sandbox, "withheld", route)) == "token_unauthorized"
    others = [other for other in GUARDED if other.key != route.key and other.key not in TRIPWIRES]
    assert all(_send(sandbox, "withheld", other).status_code not in (401, 403) for other in others)


def test_withheld_routes_must_be_sandbox_routes() -> None:
    from validator.sandbox.config import SandboxConfig, SandboxConfigError

    data = {
        "workspaces": [
            {
                "id_code": "w",
                "name": "W",
                "region": "US",
                "admins": [{"id": "1", "name": "A", "email": "a@w.test"}],
            }
        ],
        "tokens": [
            {"value": "t", "workspace": "w", "permissions": "all", "withheld_routes": ["GET /nowhere"]}
        ],
    }
    with pytest.raises(SandboxConfigError, match="not a sandbox route"):
        SandboxConfig.from_dict(data)


@pytest.mark.allows_mutation
def test_post_events_is_a_tripwire() -> None:
    """API-NOTES §8: POST /events has no safe form; whatever reaches it is recorded as a mutation."""
    sandbox = Sandbox()
    with client_for(sandbox) as client:
        response = client.post("/events", json={})
    assert (response.status_code, response.content) == (202, b"")
    assert [entry.route for entry in sandbox.log.mutations] == ["POST /events"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/tickets/0/linked_conversations"),
        ("POST", "/articles/0/tags"),
        ("POST", "/companies/000000000000000000000000/notes"),
    ],
)
def test_a_route_2_15_does_not_have_answers_intercom_version_invalid(method: str, path: str) -> None:
    sandbox = Sandbox()
    with client_for(sandbox, **{"Intercom-Version": "2.15"}) as client:
        refused = client.request(method, path, json={})
    with client_for(sandbox, **{"Intercom-Version": "2.16"}) as client:
        served = client.request(method, path, json={})
    assert (refused.status_code, error_code(refused)) == (400, "intercom_version_invalid")
    assert served.status_code == 404
    assert sandbox.log.mutations == []
