"""Write endpoints: the validator's probes change nothing; writes that would succeed are flagged.

The probes are the catalog's own (validator/catalog/intercom.yaml), read here so that this file cannot
drift from what the validator sends; the answers expected are the sandbox's own knowledge (API-NOTES §5).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.support import FULL, client_for, error_code, token, with_tokens
from validator.catalog import Probe, load_catalog
from validator.model import Verdict
from validator.sandbox import Sandbox
from validator.sandbox import fixtures as fx
from validator.sandbox.permissions import ALL_LABELS, ROUTES_BY_KEY, Route, match_route

NO_ID = "ffffffffffffffffffffffff"
OTHER_ADMIN = "991267460"  # an admin of the default workspace who is not the token's own

# Every write probe of the catalog: a write verb that no 2xx answer rule grants on (POST /companies/list is
# a read sent with POST).
PROBES: list[Probe] = [
    probe
    for probe in load_catalog().all_probes()
    if probe.method != "GET"
    and not any(rule.status < 300 and rule.verdict is Verdict.GRANTED for rule in probe.answers)
]


def _route(probe: Probe) -> tuple[Route, str | None]:
    matched = match_route(probe.method, probe.path)
    assert matched is not None, f"{probe.method} {probe.path} is no route of the sandbox"
    return matched


def _probe_id(probe: Probe) -> str:
    return f"{probe.method} {probe.path}"


# The sandbox's documented answer to each probe as sent (an impossible id, a refused body), by route.
DOCUMENTED: dict[str, tuple[int, str]] = {
    "POST /contacts/{id}/companies": (404, "not_found"),
    "PUT /companies/{id}": (404, "company_not_found"),
    "PUT /conversations/{id}": (404, "not_found"),
    "POST /conversations": (404, "not_found"),
    "PUT /admins/{id}/away": (404, "admin_not_found"),
    "POST /tags": (400, "parameter_invalid"),
    "PUT /data_attributes/{id}": (404, "field_not_found"),
    # the help-desk writes (API-NOTES §8)
    "POST /tickets/{id}/linked_conversations": (404, "ticket_not_found"),
    "PUT /tickets/{id}": (404, "ticket_not_found"),
    "POST /articles/{id}/tags": (404, "article_not_found"),
    "PUT /articles/{id}": (404, "not_found"),
    "PUT /help_center/collections/{id}": (404, "not_found"),
    "POST /contacts/{id}/notes": (404, "not_found"),
    "POST /companies/{id}/notes": (404, "company_not_found"),
}

# An object that exists, for each route that names one, and the read that shows it afterwards.
EXISTING: dict[str, tuple[str, tuple[str, str]]] = {
    "POST /contacts/{id}/companies": (fx.CONTACT_IDS[0], ("GET", f"/contacts/{fx.CONTACT_IDS[0]}")),
    "PUT /companies/{id}": (fx.COMPANY_IDS[0], ("POST", "/companies/list?per_page=150")),
    "PUT /conversations/{id}": (fx.CONVERSATION_IDS[0], ("GET", "/conversations?per_page=150")),
    "PUT /admins/{id}/away": (OTHER_ADMIN, ("GET", f"/admins/{OTHER_ADMIN}")),
    "PUT /data_attributes/{id}": (str(fx.CUSTOM_ATTRIBUTE_IDS[1]), ("GET", "/data_attributes")),
    "POST /tickets/{id}/linked_conversations": (fx.TICKET_IDS[0], ("GET", "/ticket_types")),
    "PUT /tickets/{id}": (fx.TICKET_IDS[0], ("GET", "/ticket_states")),
    "POST /articles/{id}/tags": (fx.ARTICLE_IDS[0], ("GET", "/articles")),
    "PUT /articles/{id}": (fx.ARTICLE_IDS[0], ("GET", "/articles")),
    "PUT /help_center/collections/{id}": (fx.COLLECTION_IDS[0], ("GET", "/help_center/collections")),
    "POST /contacts/{id}/notes": (fx.CONTACT_IDS[0], ("GET", f"/contacts/{fx.CONTACT_IDS[0]}/notes")),
    "POST /companies/{id}/notes": (fx.COMPANY_IDS[0], ("GET", f"/companies/{fx.COMPANY_IDS[0]}/notes")),
}
NO_ID_ROUTE_READS: dict[str, tuple[str, str]] = {"POST /tags": ("GET", "/tags")}
# Routes whose object is named in the body: where its id sits, an existing one, and the read that shows it.
BODY_ID_ROUTES: dict[str, tuple[tuple[str, str], str, tuple[str, str]]] = {
    "POST /conversations": (("from", "id"), fx.CONTACT_IDS[0], ("GET", "/conversations?per_page=150")),
}

# The answer to a refused body on an existing object: parameter_invalid, except where a route documents
# its own (a contact without a company to attach: 400 parameter_not_found "company not specified" [EX]).
REFUSED_CODE = {
    "POST /contacts/{id}/companies": "parameter_not_found",
    "POST /tickets/{id}/linked_conversations": "parameter_not_found",  # "conversation_id not specified" [EX]
}
# No 400 is documented for tagging an article: a missing tag answers its documented 404 [EX].
REFUSED_ANSWER = {"POST /articles/{id}/tags": (404, "tag_not_found")}


def _version(probe: Probe) -> str:
    """A version the probe is sent with (its own when restricted; the sandbox's default otherwise)."""
    return probe.versions[0] if probe.versions else "2.16"


def _on_existing(probe: Probe) -> tuple[str, tuple[str, str]]:
    """The probe's path with its impossible id replaced by an existing object's, and the read of it."""
    route, record_id = _route(probe)
    if route.key in BODY_ID_ROUTES:
        return probe.path, BODY_ID_ROUTES[route.key][2]
    if record_id is None:
        return probe.path, NO_ID_ROUTE_READS[route.key]
    existing, read = EXISTING[route.key]
    assert record_id not in (existing, ""), "the probe must name an impossible id"
    return probe.path.replace(f"/{record_id}", f"/{existing}", 1), read


def _body_on_existing(probe: Probe) -> Any:
    """The probe's body, with the impossible id of a body-named object replaced by an existing one's."""
    route, _ = _route(probe)
    if route.key not in BODY_ID_ROUTES:
        return probe.body
    (outer, inner), existing, _ = BODY_ID_ROUTES[route.key]
    body = dict(probe.body or {})
    assert body[outer][inner] != existing, "the probe must name an impossible id"
    body[outer] = {**body[outer], inner: existing}
    return body


def test_the_catalog_has_write_probes_and_each_is_known_here() -> None:
    assert len(PROBES) >= 13
    keys = {_route(probe)[0].key for probe in PROBES}
    assert keys == set(DOCUMENTED)
    assert all(ROUTES_BY_KEY[key].is_write for key in keys)
    assert keys == set(EXISTING) | set(NO_ID_ROUTE_READS) | set(BODY_ID_ROUTES)


@pytest.mark.parametrize("probe", PROBES, ids=_probe_id)
def test_write_probes_get_the_documented_rejection_and_change_nothing(probe: Probe) -> None:
    sandbox = Sandbox()
    with client_for(sandbox, **{"Intercom-Version": _version(probe)}) as client:
        response = client.request(probe.method, probe.path, json=probe.body)
    expected = DOCUMENTED[_route(probe)[0].key]
    assert (response.status_code, error_code(response)) == expected
    granting = {(r.status, c) for r in probe.answers if r.verdict is Verdict.GRANTED for c in r.codes}
    assert expected in granting  # the catalog reads the sandbox's answer as "granted"
    assert sandbox.log.mutations == []


def _read(client: httpx.Client, read: tuple[str, str]) -> Any:
    method, target = read
    response = client.request(method, target)
    assert response.status_code == 200
    body = response.json()
    body.pop("request_id", None)
    return body


@pytest.mark.parametrize(
    ("probe", "version"),
    [(probe, version) for probe in PROBES for version in ("2.15", "2.16") if probe.sent_with(version)],
    ids=lambda value: _probe_id(value) if isinstance(value, Probe) else str(value),
)
def test_each_probe_body_changes_nothing_even_on_an_existing_object(probe: Probe, version: str) -> None:
    """Issue 9, item 10: the body alone must be refused, so nothing changes even if the id existed."""
    sandbox = Sandbox()
    target, read = _on_existing(probe)
    with client_for(sandbox, **{"Intercom-Version": version}) as client:
        before = _read(client, read)
        response = client.request(probe.method, target, json=_body_on_existing(probe))
        after = _read(client, read)
    route = _route(probe)[0]
    status, code = REFUSED_ANSWER.get(route.key, (400, REFUSED_CODE.get(route.key, "parameter_invalid")))
    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["type"] == "error.list" and isinstance(answer["request_id"], str)
    [entry] = answer["errors"]
    assert entry["code"] == code
    assert isinstance(entry["message"], str) and entry["message"]
    assert sandbox.log.mutations == []
    [logged] = [e for e in sandbox.log.entries if e.method == probe.method and e.path == target]
    assert (logged.status, logged.mutation) == (status, False)
    assert before == after


@pytest.mark.parametrize("probe", PROBES, ids=_probe_id)
def test_the_permission_is_checked_before_the_object_and_the_body(probe: Probe) -> None:
    """Without the route's label: 401 for the probe on an existing object as on an impossible one."""
    route = _route(probe)[0]
    lacking = ALL_LABELS - {route.required} - route.also_accepted
    sandbox = Sandbox(with_tokens(token("lacking", *lacking)))
    target, _ = _on_existing(probe)
    with client_for(sandbox, "lacking", **{"Intercom-Version": _version(probe)}) as client:
        for path, body in ((probe.path, probe.body), (target, _body_on_existing(probe))):
            response = client.request(probe.method, path, json=body)
            assert (response.status_code, error_code(response)) == (401, "token_unauthorized")
    assert sandbox.log.mutations == []


def test_a_missing_object_answers_its_404_whatever_the_body() -> None:
    with client_for(Sandbox()) as client:
        for body in (b"not json", b"[1]", b'{"away_mode_enabled": "yes"}'):
            response = client.put(
                "/admins/0/away", content=body, headers={"Content-Type": "application/json"}
            )
            assert (response.status_code, error_code(response)) == (404, "admin_not_found")


# Rejections documented in API-NOTES §5 that the catalog does not use as probes.
OTHER_REJECTIONS: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("POST", "/companies", {"test": "invalid"}, 400, "bad_request"),
    ("PUT", f"/companies/{NO_ID}", {}, 404, "company_not_found"),
    ("PUT", "/conversations/0", {"read": True}, 404, "not_found"),
    (
        "POST",
        "/conversations/0/parts",
        {"message_type": "close", "type": "admin", "admin_id": "1"},
        404,
        "not_found",
    ),
    (
        "PUT",
        "/admins/0/away",
        {"away_mode_enabled": False, "away_mode_reassign": False},
        404,
        "admin_not_found",
    ),
    ("PUT", "/data_attributes/0", {"description": "x"}, 404, "field_not_found"),
    (
        "POST",
        "/data_attributes",
        {"name": "probe", "model": "company", "data_type": "mithril"},
        400,
        "parameter_invalid",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), OTHER_REJECTIONS, ids=lambda p: str(p))
def test_other_documented_rejections_change_nothing(
    method: str, path: str, body: dict[str, Any], status: int, code: str
) -> None:
    sandbox = Sandbox()
    with client_for(sandbox) as client:
        response = client.request(method, path, json=body)
    assert (response.status_code, error_code(response)) == (status, code)
    assert sandbox.log.mutations == []


# Bodies each route's request schema refuses, sent to an object that exists: 400, nothing recorded.
REFUSED: list[tuple[str, str, bytes | dict[str, Any] | list[Any] | None, str, str]] = [
    (
        "PUT",
        f"/companies/{fx.COMPANY_IDS[0]}",
        {"custom_attributes": "invalid"},
        "parameter_invalid",
        "Custom attributes isn't an object",
    ),
    (
        "PUT",
        f"/companies/{fx.COMPANY_IDS[0]}",
        {"custom_attributes": {"tier": 5}},
        "parameter_invalid",
        "every value of custom attributes must be a string",
    ),
    ("PUT", f"/companies/{fx.COMPANY_IDS[0]}", {"size": "10"}, "parameter_invalid", "Size isn't an integer"),
    (
        "PUT",
        f"/companies/{fx.COMPANY_IDS[0]}",
        [],
        "parameter_invalid",
        "The request body isn't a JSON object",
    ),
    (
        "PUT",
        f"/companies/{fx.COMPANY_IDS[0]}",
        b"{oops",
        "parameter_invalid",
        "The request body isn't valid JSON",
    ),
    (
        "PUT",
        f"/conversations/{fx.CONVERSATION_IDS[0]}",
        {"custom_attributes": {"x": True}},
        "parameter_invalid",
        "every value of custom attributes must be a string, an integer, a list or an object",
    ),
    (
        "PUT",
        f"/conversations/{fx.CONVERSATION_IDS[0]}",
        {"read": "true"},
        "parameter_invalid",
        "Read isn't a boolean",
    ),
    (
        "PUT",
        f"/conversations/{fx.CONVERSATION_IDS[0]}",
        None,
        "parameter_invalid",
        "The request body isn't a JSON object",
    ),
    (
        "POST",
        f"/conversations/{fx.CONVERSATION_IDS[0]}/parts",
        {"message_type": "close"},
        "parameter_invalid",
        "Type can't be blank",
    ),
    (
        "POST",
        f"/conversations/{fx.CONVERSATION_IDS[0]}/parts",
        {},
        "parameter_invalid",
        "Message type can't be blank",
    ),
    (
        "POST",
        f"/conversations/{fx.CONVERSATION_IDS[0]}/parts",
        {"message_type": "delete", "admin_id": 1},
        "parameter_invalid",
        "Message type isn't one of close, snoozed, open, assignment",
    ),
    (
        "PUT",
        f"/admins/{OTHER_ADMIN}/away",
        {"away_mode_enabled": None, "away_mode_reassign": None},
        "parameter_invalid",
        "Away mode enabled isn't a boolean",
    ),
    (
        "PUT",
        f"/admins/{OTHER_ADMIN}/away",
        {"away_mode_enabled": False, "away_mode_reassign": "no"},
        "parameter_invalid",
        "Away mode reassign isn't a boolean",
    ),
    (
        "PUT",
        f"/data_attributes/{fx.CUSTOM_ATTRIBUTE_IDS[1]}",
        {"description": ["invalid"]},
        "parameter_invalid",
        "Description isn't a string",
    ),
    (
        "PUT",
        f"/data_attributes/{fx.CUSTOM_ATTRIBUTE_IDS[1]}",
        {"options": {"value": "1-10"}},
        "parameter_invalid",
        "Options isn't an array",
    ),  # the documented example [EX]
    ("PUT", f"/contacts/{fx.CONTACT_IDS[0]}", {"email": 5}, "parameter_invalid", "Email isn't a string"),
    ("POST", f"/contacts/{fx.CONTACT_IDS[0]}/companies", {"id": 7}, "parameter_invalid", "Id isn't a string"),
    ("POST", f"/contacts/{fx.CONTACT_IDS[0]}/companies", {}, "parameter_not_found", "company not specified"),
    (
        "POST",
        "/companies",
        {"company_id": "remote-1", "size": "big"},
        "parameter_invalid",
        "Size isn't an integer",
    ),
    (
        "POST",
        "/data_attributes",
        {"name": "n", "model": "contact", "data_type": "options"},
        "parameter_invalid",
        "Options isn't an array",
    ),
    (
        "POST",
        "/data_attributes",
        {"name": "n", "model": "contact", "data_type": "string", "messenger_writable": "yes"},
        "parameter_invalid",
        "Messenger writable isn't a boolean",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "code", "message"), REFUSED, ids=lambda p: str(p)[:60])
def test_a_refused_body_on_an_existing_object_is_400_and_changes_nothing(
    method: str, path: str, body: bytes | dict[str, Any] | list[Any] | None, code: str, message: str
) -> None:
    sandbox = Sandbox()
    with client_for(sandbox) as client:
        if isinstance(body, bytes):
            response = client.request(
                method, path, content=body, headers={"Content-Type": "application/json"}
            )
        elif body is None:
            response = client.request(
                method, path, content=b"null", headers={"Content-Type": "application/json"}
            )
        else:
            response = client.request(method, path, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"] == [{"code": code, "message": message}]
    assert sandbox.log.mutations == []


def test_rejection_messages_follow_the_examples() -> None:
    with client_for(Sandbox()) as client:
        assert (
            client.post("/tags", json={"test": "invalid"}).json()["errors"][0]["message"]
            == "invalid tag parameters"
        )
        assert (
            client.post("/companies", json={"test": "invalid"}).json()["errors"][0]["message"]
            == "bad 'test' parameter"
        )
        bad_type = client.post(
            "/data_attributes", json={"name": "p", "model": "company", "data_type": "mithril"}
        )
        assert bad_type.json()["errors"][0]["message"] == "Data Type isn't an option"


def test_conversation_model_attributes_are_422_in_2_16_only() -> None:
    old = {"Intercom-Version": "2.15"}
    with (
        client_for(Sandbox(), **{"Intercom-Version": "2.16"}) as new,
        client_for(Sandbox(), **old) as default,
    ):
        refused = new.get("/data_attributes", params={"model": "conversation"})
        assert (refused.status_code, error_code(refused)) == (422, "parameter_invalid")
        assert default.get("/data_attributes", params={"model": "conversation"}).status_code == 200
        assert new.get("/data_attributes", params={"model": "contact"}).status_code == 200


@pytest.mark.allows_mutation
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/tags", {"name": "VIP"}),
        ("POST", "/companies", {"company_id": "remote-77"}),
        ("PUT", f"/companies/{fx.COMPANY_IDS[0]}", {"name": "Renamed"}),
        ("PUT", f"/contacts/{fx.CONTACT_IDS[0]}", {"name": "Renamed"}),
        ("POST", f"/contacts/{fx.CONTACT_IDS[0]}/companies", {"id": fx.COMPANY_IDS[1]}),
        ("PUT", f"/conversations/{fx.CONVERSATION_IDS[0]}", {"read": True}),
        (
            "POST",
            f"/conversations/{fx.CONVERSATION_IDS[0]}/parts",
            {"message_type": "close", "type": "admin", "admin_id": 991267460},
        ),
        ("PUT", "/admins/991267460/away", {"away_mode_enabled": True, "away_mode_reassign": False}),
        ("PUT", "/admins/991267460/away", {}),  # the schema's defaults: away_mode_enabled=true
        ("PUT", f"/companies/{fx.COMPANY_IDS[0]}", {}),  # a valid empty update: updated_at, webhooks
        ("PUT", f"/companies/{fx.COMPANY_IDS[0]}", {"test": "invalid"}),  # unknown fields are allowed
        ("PUT", f"/conversations/{fx.CONVERSATION_IDS[0]}", {"custom_attributes": {"order": ["21"]}}),
        ("POST", "/data_attributes", {"name": "shoe_size", "model": "contact", "data_type": "integer"}),
        ("PUT", f"/data_attributes/{fx.CUSTOM_ATTRIBUTE_IDS[1]}", {"description": "x"}),
    ],
)
def test_a_write_that_would_succeed_answers_200_and_is_flagged(
    method: str, path: str, body: dict[str, Any]
) -> None:
    sandbox = Sandbox()
    with client_for(sandbox) as client:
        before = client.get("/tags").json()
        response = client.request(method, path, json=body)
        after = client.get("/tags").json()
    assert response.status_code == 200
    [mutation] = sandbox.log.mutations
    assert (mutation.method, mutation.path, mutation.body) == (method, path, body)
    assert before == after  # flagged, but the sandbox's data stays as it was


def test_reads_are_never_flagged() -> None:
    sandbox = Sandbox()
    with client_for(sandbox) as client:
        for path in (
            "/me",
            "/contacts",
            "/conversations",
            "/admins",
            "/teams",
            "/tags",
            "/counts",
            "/data_attributes",
        ):
            assert client.get(path).status_code == 200
        assert client.post("/companies/list", params={"per_page": 1}).status_code == 200
    assert len(sandbox.log) == 9
    assert sandbox.log.mutations == []


def test_lists_honour_per_page_and_report_the_total() -> None:
    with client_for(Sandbox()) as client:
        page = client.get("/contacts", params={"per_page": 1}).json()
        companies = client.post("/companies/list", params={"per_page": 1}).json()
    assert (len(page["data"]), page["total_count"]) == (1, len(fx.CONTACT_IDS))
    assert (len(companies["data"]), companies["total_count"]) == (1, len(fx.COMPANY_IDS))


def test_counts_answer_the_legacy_count_hash() -> None:
    with client_for(Sandbox()) as client:
        counts = client.get("/counts").json()
    assert counts["type"] == "count.hash"
    assert counts["company"] == {"count": len(fx.COMPANY_IDS)}
    assert isinstance(counts["user"]["count"], int)


def test_the_log_masks_the_token_and_records_the_request() -> None:
    sandbox = Sandbox()
    with client_for(sandbox, **{"Intercom-Version": "2.16"}) as client:
        client.post("/tags", params={"dry": "1"}, json={"test": "invalid"})
    [entry] = sandbox.log.entries
    assert (entry.method, entry.path, entry.query, entry.body) == (
        "POST",
        "/tags",
        {"dry": ("1",)},
        {"test": "invalid"},
    )
    assert entry.headers["authorization"] == "Bearer ***"
    assert entry.headers["intercom-version"] == "2.16"
    assert (entry.status, entry.mutation, entry.route) == (400, False, "POST /tags")
    assert FULL not in repr(sandbox.log.entries)


def test_a_token_pasted_into_a_body_or_query_is_masked_too() -> None:
    sandbox = Sandbox()
    with client_for(sandbox) as client:
        client.post("/tags", params={"t": FULL}, json={"test": f"my token is {FULL}"})
        client.get("/me", headers={"Authorization": "Bearer sandbox-unknown-token"})
    text = repr(sandbox.log.entries)
    assert FULL not in text
    assert "sandbox-unknown-token" not in text


def test_token_values_stay_out_of_reprs() -> None:
    sandbox = Sandbox()
    assert FULL not in repr(sandbox.config)
    assert all(t.value not in repr(t) for t in sandbox.accepted_tokens())
