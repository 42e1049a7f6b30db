"""No verdict from a route miss (issue 10 item 4): a 404 grants a write only when it cannot be the answer
Intercom gives to a route or method it does not serve (API-NOTES §3).

Three kinds of evidence, chosen per catalog rule: a resource-specific code, the route's own message, or a
difference from the control request of the probe's method, sent once in the same round as the probes.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from validator.catalog import CatalogError, Probe, load_catalog, parse_catalog
from validator.checker import Checker, RouteMissControl, classify, combine
from validator.intercom import Answer, IntercomClient
from validator.model import (
    Access,
    Auth,
    AuthMode,
    ConnectorSpec,
    DataType,
    Permission,
    Strength,
    Verdict,
    Workspace,
)
from validator.pacing import RetryPolicy
from validator.report import ConnectorResult

CATALOG = load_catalog()
RAW = yaml.safe_load((Path(__file__).parents[2] / "validator" / "catalog" / "intercom.yaml").read_text())
JSON = {"content-type": "application/json"}


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"type": "error.list", "request_id": "r", "errors": [{"code": code, "message": message}]}


def answer(method: str, path: str, status: int | None, body: Any = None) -> Answer:
    return Answer(method, path, status, body=body, body_is_json=body is not None, headers=JSON)


def write_probe(data_type: DataType, method: str = "PUT") -> Probe:
    entry = CATALOG.probes_for(Permission(data_type, Access.WRITE))
    assert entry is not None
    return next(probe for probe in entry.probes if probe.method == method)


def control(status: int | None, body: Any = None, method: str = "PUT") -> RouteMissControl:
    path = CATALOG.route_miss.controls[method].path
    return RouteMissControl(answer(method, path, status, body), CATALOG.route_miss.statuses)


BARE = error_body("not_found", "Resource Not Found")
# Every probe with a rule that a route miss could also satisfy, by its data type.
GATED = [
    (entry.permission.data_type, probe)
    for entry in CATALOG.permissions.values()
    for probe in entry.probes
    if any(rule.route_miss_possible for rule in probe.answers)
]


def test_every_existing_write_probe_with_a_bare_404_rule_is_gated() -> None:
    """Checked against research §4.2: people, companies, conversations, teammates, data attributes."""
    assert {(probe.method, data_type) for data_type, probe in GATED} == {
        ("POST", DataType.PEOPLE),
        ("PUT", DataType.COMPANIES),
        ("PUT", DataType.CONVERSATIONS),
        ("PUT", DataType.TEAMS_AND_TEAMMATES),
        ("PUT", DataType.DATA_ATTRIBUTES),
        # the help-desk writes whose only missing-object answer is the bare form (issue 10, research §4.1)
        ("PUT", DataType.ARTICLES),  # 2.15: PUT /articles/{id}
        ("PUT", DataType.HELP_CENTER),  # PUT /help_center/collections/{id}
    }


@pytest.mark.parametrize(("data_type", "probe"), GATED, ids=lambda value: str(value))
def test_a_bare_404_like_the_controls_answer_is_inconclusive(data_type: DataType, probe: Probe) -> None:
    reply = answer(probe.method, probe.path, 404, BARE)
    classified = classify(probe, reply, CATALOG.common_answers, control(404, BARE, probe.method))
    assert classified.verdict is Verdict.INCONCLUSIVE
    assert classified.evidence.strength is None
    assert "route" in (classified.evidence.note or "")
    assert classified.compared_with is not None


@pytest.mark.parametrize(("data_type", "probe"), GATED, ids=lambda value: str(value))
def test_a_bare_404_without_a_control_is_inconclusive(data_type: DataType, probe: Probe) -> None:
    reply = answer(probe.method, probe.path, 404, BARE)
    assert classify(probe, reply, CATALOG.common_answers, None).verdict is Verdict.INCONCLUSIVE


@pytest.mark.parametrize(("data_type", "probe"), GATED, ids=lambda value: str(value))
def test_a_bare_404_unlike_the_controls_answer_is_an_inference(data_type: DataType, probe: Probe) -> None:
    reply = answer(probe.method, probe.path, 404, BARE)
    miss = control(404, error_body("not_found", "No route matches that request"), probe.method)
    classified = classify(probe, reply, CATALOG.common_answers, miss)
    assert (classified.verdict, classified.evidence.strength) == (Verdict.GRANTED, Strength.INFERENCE)
    assert "not a route miss" in (classified.evidence.note or "")


@pytest.mark.parametrize(
    "miss",
    [
        pytest.param(control(503, error_body("server_error", "x")), id="5xx"),
        pytest.param(control(429, error_body("rate_limit_exceeded", "x")), id="429"),
        pytest.param(control(None), id="no-answer"),
        pytest.param(control(401, error_body("unauthorized", "Access Token Invalid")), id="401"),
    ],
)
def test_a_control_that_got_no_route_miss_answer_proves_nothing(miss: RouteMissControl) -> None:
    probe = write_probe(DataType.COMPANIES)
    reply = answer(probe.method, probe.path, 404, BARE)
    assert classify(probe, reply, CATALOG.common_answers, miss).verdict is Verdict.INCONCLUSIVE


def test_a_route_miss_that_echoes_its_path_is_still_recognised() -> None:
    probe = write_probe(DataType.COMPANIES)
    path = CATALOG.route_miss.controls["PUT"].path
    reply = answer(probe.method, probe.path, 404, error_body("not_found", f"No route for {probe.path}"))
    miss = control(404, error_body("not_found", f"No route for {path}"))
    assert classify(probe, reply, CATALOG.common_answers, miss).verdict is Verdict.INCONCLUSIVE


@pytest.mark.parametrize(
    ("data_type", "method", "body"),
    [
        (DataType.COMPANIES, "PUT", error_body("company_not_found", "Company Not Found")),
        (DataType.TEAMS_AND_TEAMMATES, "PUT", error_body("admin_not_found", "Admin for admin_id not found")),
        (DataType.DATA_ATTRIBUTES, "PUT", error_body("field_not_found", "We couldn't find that attribute")),
        (DataType.PEOPLE, "POST", error_body("not_found", "User Not Found")),
        (DataType.CONVERSATIONS, "POST", error_body("not_found", "User Not Found")),
    ],
)
def test_a_resource_specific_code_or_message_needs_no_control(
    data_type: DataType, method: str, body: dict[str, Any]
) -> None:
    """Even when the control looks the same: a router that misses a route cannot name the missing object."""
    probe = write_probe(data_type, method)
    reply = answer(probe.method, probe.path, 404, body)
    for miss in (None, control(404, body, method)):
        assert classify(probe, reply, CATALOG.common_answers, miss).verdict is Verdict.GRANTED


def test_alternative_proofs_grant_on_one_unless_another_says_missing() -> None:
    granted, unsure, missing = Verdict.GRANTED, Verdict.INCONCLUSIVE, Verdict.MISSING
    assert combine([granted, unsure], alternatives=True) is granted
    assert combine([granted, unsure]) is unsure
    assert combine([granted, missing], alternatives=True) is missing
    assert combine([unsure, unsure], alternatives=True) is unsure
    assert combine([granted, Verdict.PLAN_RESTRICTED], alternatives=True) is Verdict.PLAN_RESTRICTED


# --- the catalog keeps the rule: data, checked on load ---------------------------------------------------


def companies_write_rules(raw: dict[str, Any]) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = raw["permissions"]["companies"]["write"]["probes"][0]["answers"]
    return rules


@pytest.mark.parametrize(
    "rule",
    [
        {"status": 404, "codes": ["not_found"], "verdict": "granted", "strength": "inference"},
        {
            "status": 404,
            "codes": ["company_not_found", "not_found"],
            "verdict": "granted",
            "strength": "inference",
        },
        {
            "status": 404,
            "codes": ["not_found"],
            "message_contains": "Not Found",
            "verdict": "granted",
            "strength": "inference",
        },
        {"status": 405, "codes": ["not_found"], "verdict": "granted", "strength": "inference"},
    ],
)
def test_the_catalog_refuses_a_grant_a_route_miss_could_satisfy(rule: dict[str, Any]) -> None:
    broken = copy.deepcopy(RAW)
    companies_write_rules(broken).insert(0, rule)
    with pytest.raises(CatalogError, match="route miss"):
        parse_catalog(broken)
    companies_write_rules(broken)[0]["route_miss_possible"] = True
    parse_catalog(broken)  # the same rule, read against the control, is accepted


def test_the_catalog_refuses_a_gated_rule_whose_method_has_no_control() -> None:
    broken = copy.deepcopy(RAW)
    broken["route_miss"]["controls"] = [c for c in broken["route_miss"]["controls"] if c["method"] != "PUT"]
    with pytest.raises(CatalogError, match="no route_miss control for PUT"):
        parse_catalog(broken)


# --- the checker sends one control per method, in the same round ----------------------------------------

ME = {
    "type": "admin",
    "id": "1",
    "app": {"type": "app", "id_code": "abc12xyz", "name": "Acme", "region": "US"},
}


def run(
    permissions: tuple[Permission, ...], respond: Callable[[httpx.Request], httpx.Response]
) -> tuple[ConnectorResult, list[tuple[str, str]]]:
    sent: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append((request.method, request.url.path))
        if request.url.path == "/me":
            return httpx.Response(200, json=ME)
        return respond(request)

    async def no_wait(seconds: float) -> None:
        return None

    spec = ConnectorSpec(
        path="connector.yaml",
        name="route-miss",
        workspace=Workspace("abc12xyz"),
        auth=Auth(AuthMode.ACCESS_TOKEN),
        permissions=permissions,
    )

    async def go() -> ConnectorResult:
        client = IntercomClient(
            "https://api.intercom.io",
            "sandbox-route-miss-token",
            "2.15",
            transport=httpx.MockTransport(handler),
            retry=RetryPolicy(jitter=0.0),
            sleep=no_wait,
        )
        async with client:
            return await Checker(CATALOG).check(spec, client, "TOKEN")

    return asyncio.run(go()), sent


WRITES = (
    Permission(DataType.COMPANIES, Access.WRITE),
    Permission(DataType.TEAMS_AND_TEAMMATES, Access.WRITE),
    Permission(DataType.DATA_ATTRIBUTES, Access.WRITE),
)


def test_one_control_per_method_is_sent_and_a_bare_404_like_it_decides_nothing() -> None:
    result, sent = run(WRITES, lambda request: httpx.Response(404, json=BARE))
    assert sent.count(("PUT", "/connector_validator_route_check/0")) == 1
    assert ("POST", "/connector_validator_route_check/0") not in sent  # no declared POST probe needs one
    assert {item.verdict for item in result.permissions} == {Verdict.INCONCLUSIVE}
    for item in result.permissions:
        assert item.evidence[-1].path == "/connector_validator_route_check/0"


def test_a_bare_404_that_differs_from_the_route_miss_is_an_inference() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if "connector_validator_route_check" in request.url.path:
            return httpx.Response(404, json=error_body("route_not_found", "No such route"))
        return httpx.Response(404, json=BARE)

    result, _ = run(WRITES, respond)
    assert {item.verdict for item in result.permissions} == {Verdict.GRANTED}


def test_no_control_is_sent_when_no_declared_rule_needs_one() -> None:
    permissions = (Permission(DataType.TAGS, Access.WRITE), Permission(DataType.PEOPLE, Access.READ))
    _, sent = run(permissions, lambda request: httpx.Response(400, json=error_body("parameter_invalid", "x")))
    assert not any("connector_validator_route_check" in path for _, path in sent)
