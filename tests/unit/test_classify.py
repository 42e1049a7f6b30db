"""How answers become verdicts: only an answer the catalog explains can be `granted`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from validator.catalog import load_catalog
from validator.checker import classify, combine
from validator.intercom import Answer
from validator.model import Access, DataType, Permission, Strength, Verdict

CATALOG = load_catalog()


def probe_of(data_type: DataType, access: Access, index: int = 0) -> Any:
    entry = CATALOG.probes_for(Permission(data_type, access))
    assert entry is not None
    return entry.probes[index]


def error_body(code: str | None, message: str = "", *, key: str = "code") -> dict[str, Any]:
    error: dict[str, Any] = {"message": message}
    if code is not None:
        error[key] = code
    return {"type": "error.list", "request_id": "req-1", "errors": [error]}


def answer(
    status: int | None,
    body: Any = None,
    *,
    failure: str | None = None,
    content_type: str = "application/json; charset=utf-8",
) -> Answer:
    headers = {"content-type": content_type}
    is_json = body is not None
    return Answer("GET", "/x", status, body=body, body_is_json=is_json, failure=failure, headers=headers)


def verdict_of(
    data_type: DataType, access: Access, reply: Answer, index: int = 0
) -> tuple[Verdict, Strength | None]:
    classified = classify(probe_of(data_type, access, index), reply, CATALOG.common_answers)
    return classified.verdict, classified.evidence.strength


def test_a_200_list_to_a_read_is_proof_of_the_grant() -> None:
    reply = answer(200, {"type": "list", "data": []})
    assert verdict_of(DataType.PEOPLE, Access.READ, reply) == (Verdict.GRANTED, Strength.PROOF)


def test_a_200_with_the_wrong_body_type_is_not_understood() -> None:
    reply = answer(200, {"type": "something.else"})
    assert verdict_of(DataType.PEOPLE, Access.READ, reply)[0] is Verdict.INCONCLUSIVE


def test_a_200_html_page_from_a_proxy_is_inconclusive() -> None:
    reply = Answer("GET", "/contacts", 200, body=None, body_is_json=False)
    assert verdict_of(DataType.PEOPLE, Access.READ, reply)[0] is Verdict.INCONCLUSIVE


def test_a_404_to_a_write_probe_is_only_an_inference() -> None:
    reply = answer(404, error_body("company_not_found", "Company Not Found"))
    assert verdict_of(DataType.COMPANIES, Access.WRITE, reply) == (Verdict.GRANTED, Strength.INFERENCE)


def test_a_bare_404_to_a_write_probe_without_a_control_is_inconclusive() -> None:
    reply = answer(404, error_body("not_found", "Resource Not Found"))
    for data_type in (
        DataType.PEOPLE,
        DataType.COMPANIES,
        DataType.TEAMS_AND_TEAMMATES,
        DataType.DATA_ATTRIBUTES,
    ):
        assert verdict_of(data_type, Access.WRITE, reply) == (Verdict.INCONCLUSIVE, None), data_type
    assert verdict_of(DataType.CONVERSATIONS, Access.WRITE, reply, index=1) == (Verdict.INCONCLUSIVE, None)


def test_a_404_without_intercoms_error_envelope_is_inconclusive() -> None:
    reply = answer(404, {"message": "Not Found"})
    assert verdict_of(DataType.CONVERSATIONS, Access.WRITE, reply)[0] is Verdict.INCONCLUSIVE


def test_a_404_html_page_is_never_read_as_a_grant() -> None:
    reply = Answer("PUT", "/conversations/0", 404, body=None, body_is_json=False)
    assert verdict_of(DataType.CONVERSATIONS, Access.WRITE, reply)[0] is Verdict.INCONCLUSIVE


def test_a_400_with_the_documented_code_to_a_write_probe_is_an_inference() -> None:
    reply = answer(400, error_body("parameter_invalid", "invalid tag parameters"))
    assert verdict_of(DataType.TAGS, Access.WRITE, reply) == (Verdict.GRANTED, Strength.INFERENCE)


def test_a_400_with_an_unknown_code_is_inconclusive() -> None:
    reply = answer(400, error_body("something_new"))
    assert verdict_of(DataType.TAGS, Access.WRITE, reply)[0] is Verdict.INCONCLUSIVE


def test_a_200_to_a_write_probe_is_not_explained() -> None:
    reply = answer(200, {"type": "tag", "id": "1", "name": "x"})
    assert verdict_of(DataType.TAGS, Access.WRITE, reply)[0] is Verdict.INCONCLUSIVE


@pytest.mark.parametrize(
    ("status", "body", "verdict"),
    [
        (401, error_body("token_unauthorized", "Not authorized to access resource"), Verdict.MISSING),
        (
            401,
            error_body("token_unauthorized", key="type"),
            Verdict.MISSING,
        ),  # old responses: code under type
        (
            403,
            error_body("forbidden", "You do not have the required scope (read_tags) to access this resource"),
            Verdict.MISSING,
        ),
        (403, error_body("api_plan_restricted", "Active subscription needed."), Verdict.PLAN_RESTRICTED),
        (403, error_body("forbidden", "The teammate cannot do this"), Verdict.INCONCLUSIVE),
        (401, error_body("unauthorized", "Access Token Invalid"), Verdict.INCONCLUSIVE),
        (400, error_body("intercom_version_invalid"), Verdict.UNVERIFIABLE),
        (429, error_body("rate_limit_exceeded"), Verdict.INCONCLUSIVE),
        (500, error_body("server_error"), Verdict.INCONCLUSIVE),
        (503, None, Verdict.INCONCLUSIVE),
        (302, None, Verdict.INCONCLUSIVE),
    ],
)
def test_common_answers_apply_to_every_probe(status: int, body: Any, verdict: Verdict) -> None:
    for probe in CATALOG.all_probes():
        classified = classify(probe, answer(status, body), CATALOG.common_answers)
        assert classified.verdict is verdict, (probe.method, probe.path)


def test_no_answer_at_all_is_inconclusive_and_says_why() -> None:
    reply = answer(None, failure="timed out")
    classified = classify(probe_of(DataType.TAGS, Access.READ), reply, CATALOG.common_answers)
    assert classified.verdict is Verdict.INCONCLUSIVE
    assert classified.evidence.http_status is None
    assert classified.evidence.note is not None and "timed out" in classified.evidence.note


@pytest.mark.parametrize(
    ("verdicts", "combined"),
    [
        ([Verdict.GRANTED, Verdict.GRANTED], Verdict.GRANTED),
        ([Verdict.GRANTED, Verdict.MISSING], Verdict.MISSING),
        ([Verdict.INCONCLUSIVE, Verdict.MISSING], Verdict.MISSING),
        ([Verdict.GRANTED, Verdict.INCONCLUSIVE], Verdict.INCONCLUSIVE),
        ([Verdict.PLAN_RESTRICTED, Verdict.INCONCLUSIVE], Verdict.PLAN_RESTRICTED),
        ([], Verdict.UNVERIFIABLE),
    ],
)
def test_a_permission_is_granted_only_when_every_probe_grants_it(
    verdicts: list[Verdict], combined: Verdict
) -> None:
    assert combine(verdicts) is combined


def test_every_granting_rule_on_a_non_2xx_answer_is_marked_inference() -> None:
    for probe in CATALOG.all_probes():
        for rule in probe.answers:
            if rule.verdict is Verdict.GRANTED:
                expected = Strength.PROOF if rule.status < 300 else Strength.INFERENCE
                assert rule.strength is expected, (probe.path, rule)


# Ids no Intercom object has, in the formats of real ones (numeric, ObjectId), written here independently of
# the catalog's `impossible_ids`.
IMPOSSIBLE_IDS = {"0", "0" * 24}
# Write probes on a collection, which no impossible id can make harmless: the field that would create or
# upsert there. (POST /companies with `company_id` upserts too; the catalog probes companies with PUT on an
# impossible id instead, and a write probe on a route covered by neither rule fails the test below.)
CREATING_FIELDS = {("POST", "/tags"): "name"}
# Write probes that create from an object named in the body, not the path: where that object's id sits. It
# must be impossible, and the message text (`body`) absent (the test below refuses it).
IDS_IN_BODY = {("POST", "/conversations"): ("from", "id")}


def test_write_probes_never_send_a_body_that_could_create_or_upsert() -> None:
    """TruffleHog #1493 is the cautionary tale: no probe may have a side effect."""
    for probe in CATALOG.all_probes():
        assert "scroll" not in probe.path
        assert "dG9rOj" not in json.dumps(probe.body or {})
    writes = [
        probe
        for data_type in DataType
        if (entry := CATALOG.probes_for(Permission(data_type, Access.WRITE))) is not None
        for probe in entry.probes
        if probe.method != "GET"
    ]
    assert writes
    for probe in writes:
        route = (probe.method, probe.path)
        if route in CREATING_FIELDS:
            assert CREATING_FIELDS[route] not in (probe.body or {}), probe.path
        elif route in IDS_IN_BODY:
            outer, inner = IDS_IN_BODY[route]
            assert (probe.body or {})[outer][inner] in IMPOSSIBLE_IDS, probe.path
        else:
            assert IMPOSSIBLE_IDS & set(probe.path.split("/")), f"{route}: no impossible id, no rule"
    reached = {(probe.method, probe.path) for probe in writes}
    assert set(IDS_IN_BODY) <= reached, "a rule for a route no probe writes to can never fail"
    assert set(CREATING_FIELDS) <= reached, "a rule for a route no probe writes to can never fail"


@pytest.mark.parametrize("code", ["token_unauthorized", "forbidden", "unauthorized", None, "something_new"])
def test_a_404_with_any_other_code_than_not_found_never_grants_a_write(code: str | None) -> None:
    """A gateway's "no route" 404 or a permission error sent with 404 must not read as "past the check"."""
    for data_type in (DataType.PEOPLE, DataType.CONVERSATIONS, DataType.TEAMS_AND_TEAMMATES):
        reply = answer(404, error_body(code, "no route"))
        assert verdict_of(data_type, Access.WRITE, reply)[0] is not Verdict.GRANTED


def test_a_write_probe_that_succeeds_is_reported_loudly_and_not_granted() -> None:
    probe = probe_of(DataType.CONVERSATIONS, Access.WRITE)
    reply = Answer("PUT", probe.path, 200, body={"type": "conversation"}, body_is_json=True)
    classified = classify(probe, reply, CATALOG.common_answers)
    assert classified.verdict is Verdict.INCONCLUSIVE
    assert classified.evidence.note is not None and "SUCCEEDED" in classified.evidence.note


@pytest.mark.parametrize("content_type", ["text/html", "text/html; profile=json", "text/plain", ""])
def test_json_served_as_anything_but_json_is_not_proof(content_type: str) -> None:
    reply = answer(200, {"type": "list", "data": []}, content_type=content_type)
    assert verdict_of(DataType.PEOPLE, Access.READ, reply)[0] is Verdict.INCONCLUSIVE


@pytest.mark.parametrize(
    "content_type", ["application/json", "Application/JSON; charset=utf-8", "application/vnd.x+json"]
)
def test_json_media_types_are_recognised(content_type: str) -> None:
    reply = answer(200, {"type": "list", "data": []}, content_type=content_type)
    assert verdict_of(DataType.PEOPLE, Access.READ, reply)[0] is Verdict.GRANTED


def test_every_write_probe_addresses_an_id_no_object_has_with_a_body_that_changes_nothing() -> None:
    impossible = {"0", "0" * 24}  # in the formats of real ids, so that the request reaches its route
    for entry in CATALOG.permissions.values():
        if entry.permission.access is not Access.WRITE:
            continue
        for probe in entry.probes:
            segments = probe.path.strip("/").split("/")
            ids = [
                segment
                for segment in segments
                if segment.isdigit() or (segment.isalnum() and len(segment) == 24)
            ]
            assert all(segment in impossible for segment in ids), probe.path
            if len(segments) > 1:
                assert ids, probe.path
            assert not set(probe.body or {}) & {"name", "company_id", "email", "external_id", "body"}, (
                probe.path
            )


def test_the_catalog_refuses_a_grant_on_an_error_answer_without_its_codes() -> None:
    import copy

    import yaml

    from validator.catalog import CatalogError, parse_catalog

    raw = yaml.safe_load((Path(__file__).parents[2] / "validator" / "catalog" / "intercom.yaml").read_text())
    broken = copy.deepcopy(raw)
    broken["permissions"]["tags"]["write"]["probes"][0]["answers"][0].pop("codes")
    with pytest.raises(CatalogError, match="codes"):
        parse_catalog(broken)
    parse_catalog(raw)  # and the shipped one passes


# --- a success grants only by the documented shape of the whole body (issue 9, item 1) -----------------

# The array each read answer must hold, and the type of its items, written from the OpenAPI response schemas
# (2.15/2.16) for these tests alone, so that they cannot share a mistake with the catalog's shapes.
COLLECTIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", "/contacts"): ("data", "contact"),
    ("POST", "/companies/list"): ("data", "company"),
    ("GET", "/conversations"): ("conversations", "conversation"),
    ("GET", "/admins"): ("admins", "admin"),
    ("GET", "/teams"): ("teams", "team"),
    ("GET", "/tags"): ("data", "tag"),
    ("GET", "/data_attributes"): ("data", "data_attribute"),
    # the help-desk reads (issue 10)
    ("POST", "/tickets/search"): ("tickets", "ticket"),
    ("GET", "/ticket_types"): ("data", "ticket_type"),
    ("GET", "/ticket_states"): ("data", "ticket_state"),
    ("GET", "/articles"): ("data", "article"),
    ("GET", "/segments"): ("segments", "segment"),
}
# Lists whose items have no `type` in the description: an item is identified by its string `id`.
UNTYPED: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", "/help_center/collections"): ("list", "data"),
    ("GET", "/help_center/help_centers"): ("list", "data"),
    ("GET", "/admins/activity_logs"): ("activity_log.list", "activity_logs"),
}
# Reads that can only grant on a route-specific 404 (there is no note list), and the events summary.
NOT_LISTS = {
    ("GET", "/contacts/000000000000000000000000/notes"),
    ("GET", "/companies/000000000000000000000000/notes"),
}
PAGED = {
    "/contacts",
    "/companies/list",
    "/conversations",
    "/tickets/search",
    "/articles",
}  # total_count, pages
LIST_READS = [
    (probe, rule)
    for probe in CATALOG.all_probes()
    for rule in probe.answers
    if (probe.method, probe.path) in COLLECTIONS and rule.verdict is Verdict.GRANTED
]


def test_every_read_that_lists_something_is_covered() -> None:
    reads = {
        (p.method, p.path)
        for p in CATALOG.all_probes()
        if p.method == "GET" or p.path.endswith(("/list", "/search"))
    }
    others = {("GET", "/counts"), ("GET", "/events"), *NOT_LISTS}
    assert reads - others == set(COLLECTIONS) | set(UNTYPED)
    assert len(LIST_READS) == len(COLLECTIONS)


@pytest.mark.parametrize("read", sorted(UNTYPED), ids=lambda read: f"{read[0]} {read[1]}")
def test_a_list_of_untyped_items_grants_only_with_string_ids(read: tuple[str, str]) -> None:
    [probe] = [p for p in CATALOG.all_probes() if (p.method, p.path) == read]
    body_type, key = UNTYPED[read]
    for good in ({"type": body_type, key: []}, {"type": body_type, key: [{"id": "1", "extra": 1}]}):
        assert classify_read(probe, good).verdict is Verdict.GRANTED, good
    for bad in (
        {"type": body_type},
        {"type": body_type, key: {}},
        {"type": body_type, key: [{}]},
        {"type": body_type, key: [{"id": 1}]},
        {"type": body_type, key: ["1"]},
        {"type": "list.of.something", key: []},
    ):
        assert classify_read(probe, bad).verdict is Verdict.INCONCLUSIVE, bad


def test_the_events_summary_grants_only_in_its_documented_shape() -> None:
    probe = probe_of(DataType.EVENTS, Access.READ)
    assert classify_read(probe, {"type": "event.summary", "events": []}).verdict is Verdict.GRANTED
    for bad in (
        {"type": "event.summary"},
        {"type": "event.summary", "events": {}},
        {"type": "event.summary", "events": ["x"]},
        {"type": "list", "events": []},
    ):
        assert classify_read(probe, bad).verdict is Verdict.INCONCLUSIVE, bad


def classify_read(probe: Any, body: Any) -> Any:
    headers = {"content-type": "application/json; charset=utf-8"}
    reply = Answer(probe.method, probe.path, 200, body=body, body_is_json=True, headers=headers)
    return classify(probe, reply, CATALOG.common_answers)


def wrong_shapes(body_type: str, key: str, item_type: str) -> list[Any]:
    return [
        {"type": body_type},
        {"type": body_type, key: "nope"},
        {"type": body_type, key: None},
        {"type": body_type, key: {}},
        {"type": body_type, key: {"0": {"type": item_type}}},
        {"type": body_type, key: [1]},
        {"type": body_type, key: [None]},
        {"type": body_type, key: ["nope"]},
        {"type": body_type, key: [{}]},
        {"type": body_type, key: [{"type": "something.else"}]},
        {"type": body_type, key: [{"type": item_type}, {"type": "error.list"}]},
        {"type": body_type, key: [{"type": item_type, "id": ["not", "an", "id"]}]},
        [{"type": body_type, key: []}],
        "list",
    ]


@pytest.mark.parametrize("read", LIST_READS, ids=lambda read: f"{read[0].method} {read[0].path}")
def test_a_body_with_the_right_type_but_not_the_documented_shape_is_never_granted(read: Any) -> None:
    probe, rule = read
    key, item_type = COLLECTIONS[(probe.method, probe.path)]
    paged = [
        {"type": rule.body_type, key: [], "total_count": "many"},
        {"type": rule.body_type, key: [], "pages": 1},
    ]
    for body in wrong_shapes(rule.body_type, key, item_type) + (paged if probe.path in PAGED else []):
        classified = classify_read(probe, body)
        assert classified.verdict is Verdict.INCONCLUSIVE, body
        if isinstance(body, dict):
            note = classified.evidence.note or ""
            assert "did not have the shape Intercom documents" in note, (body, note)
            assert f"{probe.method} {probe.path}" in note


@pytest.mark.parametrize("read", LIST_READS, ids=lambda read: f"{read[0].method} {read[0].path}")
def test_the_documented_shape_grants_and_extra_fields_are_allowed(read: Any) -> None:
    probe, rule = read
    key, item_type = COLLECTIONS[(probe.method, probe.path)]
    for body in (
        {"type": rule.body_type, key: []},
        {"type": rule.body_type, key: [{"type": item_type}]},
        {"type": rule.body_type, key: [{"type": item_type, "new_field": {"x": [1]}}], "added_in_2_17": True},
    ):
        classified = classify_read(probe, body)
        assert (classified.verdict, classified.evidence.strength) == (Verdict.GRANTED, Strength.PROOF), body


def test_the_counts_read_needs_its_documented_counts() -> None:
    probe = probe_of(DataType.WORKSPACE_COUNTS, Access.READ)
    good = {"type": "count.hash", "company": {"count": 55}, "user": {"count": 54944}, "lead": {"count": 1}}
    assert classify_read(probe, good).verdict is Verdict.GRANTED
    for bad in (
        {"type": "count.hash"},
        {"type": "count.hash", "company": {"count": 55}},
        {"type": "count.hash", "company": 55, "user": 5},
        {"type": "count.hash", "company": {"count": "55"}, "user": {"count": 1}},
        {"type": "count.hash", "company": {"count": True}, "user": {"count": 1}},
    ):
        classified = classify_read(probe, bad)
        assert classified.verdict is Verdict.INCONCLUSIVE, bad
        assert "did not have the shape" in (classified.evidence.note or "")


def test_the_shape_note_names_the_problem_in_the_catalogs_words_only() -> None:
    """The note never repeats server text, which could echo the token."""
    probe = probe_of(DataType.TAGS, Access.READ)
    echoed = "dG9rOjAwc2VjcmV0LXNlY3JldA=="
    cases = {
        "/data is not of type array": {"type": "list", "data": echoed},
        "the body lacks 'data'": {"type": "list", echoed: []},
        "/data/0/type is not 'tag'": {"type": "list", "data": [{"type": echoed}]},
        "/data/0 is not of type object": {"type": "list", "data": [echoed]},
    }
    for expected, body in cases.items():
        note = classify_read(probe, body).evidence.note or ""
        assert expected in note and echoed[:12] not in note, note


def test_a_success_rule_without_a_shape_never_grants() -> None:
    """Defence in depth: even a rule that slipped past the catalog schema cannot grant on a type alone."""
    import dataclasses

    probe = probe_of(DataType.TAGS, Access.READ)
    shapeless = dataclasses.replace(probe, answers=(dataclasses.replace(probe.answers[0], shape=None),))
    assert classify_read(shapeless, {"type": "list", "data": []}).verdict is Verdict.INCONCLUSIVE


def _raw_catalog() -> dict[str, Any]:
    import yaml

    path = Path(__file__).parents[2] / "validator" / "catalog" / "intercom.yaml"
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda raw: raw["permissions"]["tags"]["read"]["probes"][0]["answers"][0].pop("shape"), "shape"),
        (lambda raw: raw["identity"].pop("shape"), "shape"),
        (
            lambda raw: raw["permissions"]["tags"]["read"]["probes"][0]["answers"][0].update(shape="nosuch"),
            "no shape named 'nosuch'",
        ),
        (
            lambda raw: raw["permissions"]["tags"]["read"]["probes"][0]["answers"][0].update(
                shape="team_list"
            ),
            "must require type 'list'",
        ),
        (lambda raw: raw["shapes"]["tag"].update(type="thing"), "not a usable JSON Schema"),
        (
            lambda raw: raw["shapes"]["tag_list"].update({"$ref": "#/shapes/nosuch"}),
            "not a usable JSON Schema",
        ),
    ],
)
def test_the_catalog_refuses_a_read_grant_without_a_usable_shape(edit: Any, message: str) -> None:
    from validator.catalog import CatalogError, parse_catalog

    raw = _raw_catalog()
    edit(raw)
    with pytest.raises(CatalogError, match=message):
        parse_catalog(raw)
