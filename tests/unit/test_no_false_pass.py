"""Property: a permission is never `granted` unless the sandbox grants it, whatever goes wrong on the way;
and with nothing going wrong, the verdicts are exactly the set arithmetic of declared and granted.

Runs the real checker and client against the sandbox's in-process httpx transport (waits are skipped).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validator.catalog import load_catalog
from validator.checker import Checker, classify
from validator.intercom import Answer, IntercomClient
from validator.model import (
    Access,
    Auth,
    AuthMode,
    ConnectorSpec,
    DataType,
    Declared,
    ExcessMode,
    Permission,
    PermissionOutcome,
    Policy,
    Strength,
    Verdict,
    Workspace,
)
from validator.pacing import RetryPolicy
from validator.policy import PolicySettings, judge
from validator.report import ConnectorResult
from validator.sandbox.app import Sandbox
from validator.sandbox.config import DEFAULT_CONFIG_PATH, SandboxConfig
from validator.sandbox.permissions import ROUTES_BY_KEY, match_route
from validator.sandbox.transport import SandboxTransport

# The labels each permission needs, written from API-NOTES §4 for this test alone.
NEEDS: dict[Permission, set[str]] = {
    Permission(DataType.PEOPLE, Access.READ): {"Read and list users and companies"},
    Permission(DataType.PEOPLE, Access.WRITE): {"Write users and companies"},
    Permission(DataType.COMPANIES, Access.READ): {"Read and list users and companies"},
    Permission(DataType.COMPANIES, Access.WRITE): {"Write users and companies"},
    Permission(DataType.CONVERSATIONS, Access.READ): {"Read conversations"},
    Permission(DataType.CONVERSATIONS, Access.WRITE): {"Write conversations"},
    Permission(DataType.TEAMS_AND_TEAMMATES, Access.READ): {"Read admins"},
    Permission(DataType.TEAMS_AND_TEAMMATES, Access.WRITE): {"Update admins"},
    Permission(DataType.TAGS, Access.READ): {"Read tags"},
    Permission(DataType.TAGS, Access.WRITE): {"Write tags"},
    Permission(DataType.WORKSPACE_COUNTS, Access.READ): {"Read counts"},
    Permission(DataType.DATA_ATTRIBUTES, Access.READ): {"Read and list users and companies"},
    Permission(DataType.DATA_ATTRIBUTES, Access.WRITE): {"Write data attributes"},
    # the help-desk data (API-NOTES §8)
    Permission(DataType.TICKETS, Access.READ): {"Read tickets"},
    Permission(DataType.TICKETS, Access.WRITE): {"Write tickets"},
    Permission(DataType.ARTICLES, Access.READ): {"Read and List articles"},
    Permission(DataType.ARTICLES, Access.WRITE): {"Read and Write Articles"},
    Permission(DataType.HELP_CENTER, Access.READ): {"Read and List articles"},
    Permission(DataType.HELP_CENTER, Access.WRITE): {"Read and Write Articles"},
    Permission(DataType.NOTES, Access.READ): {"Read and list users and companies"},
    Permission(DataType.NOTES, Access.WRITE): {"Write users and companies"},
    Permission(DataType.SEGMENTS, Access.READ): {"Read and list users and companies"},
    Permission(DataType.ADMIN_ACTIVITY_LOGS, Access.READ): {"Read admin activity logs"},
    Permission(DataType.EVENTS, Access.READ): {"Read events"},
    Permission(DataType.EVENTS, Access.WRITE): {"Write events"},
}
# Never granted whatever the token holds: no safe probe exists (API-NOTES §8).
UNVERIFIABLE = {Permission(DataType.EVENTS, Access.WRITE)}
# Granted permissions that come back inconclusive: their only evidence is the bare 404 that a route miss
# also gives (API-NOTES §3), by version; a missing permission is still `missing` (the 401 comes first).
ROUTE_MISS_LIKE = {
    "2.15": {Permission(DataType.HELP_CENTER, Access.WRITE), Permission(DataType.ARTICLES, Access.WRITE)},
    "2.16": {Permission(DataType.HELP_CENTER, Access.WRITE)},
}
CONVERSATIONS_READ = Permission(DataType.CONVERSATIONS, Access.READ)
TICKETS_READ = Permission(DataType.TICKETS, Access.READ)
LABELS = sorted(set().union(*NEEDS.values()))
ROUTES = sorted(ROUTES_BY_KEY)  # the sandbox's own route keys ("PUT /conversations/{id}")
TOKEN = "sandbox-property-token"
DEFAULT_TEXT = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")

faults = st.lists(
    st.fixed_dictionaries(
        {
            "route": st.sampled_from([*ROUTES, "*"]),
            "kind": st.sampled_from(["status", "rate_limit", "html", "drop", "truncate"]),
            "status": st.sampled_from([500, 502, 503, 504]),
            "times": st.one_of(st.none(), st.integers(1, 3)),
        }
    ),
    max_size=3,
)


def sandbox_with(granted: set[str], fault_list: list[dict[str, Any]], style: str) -> Sandbox:
    data = yaml.safe_load(DEFAULT_TEXT)
    data["tokens"].append(
        {"value": TOKEN, "workspace": "abc12xyz", "admin": "991267459", "permissions": sorted(granted)}
    )
    data["workspaces"][0]["missing_permission_style"] = {"default": style}
    data["faults"] = fault_list
    return Sandbox(SandboxConfig.from_dict(data))


def check(sandbox: Sandbox, declared: list[Permission], api_version: str | None = None) -> ConnectorResult:
    spec = ConnectorSpec(
        path="connector.yaml",
        name="property",
        workspace=Workspace("abc12xyz", "Acme Support"),
        auth=Auth(AuthMode.ACCESS_TOKEN),
        permissions=tuple(declared),
        api_version=api_version,
    )

    async def no_wait(seconds: float) -> None:
        return None

    async def go() -> ConnectorResult:
        catalog = load_catalog()
        client = IntercomClient(
            "http://127.0.0.1",
            TOKEN,
            catalog.api_version_for(spec),
            transport=SandboxTransport(sandbox),
            retry=RetryPolicy(jitter=0.0),
            sleep=no_wait,
        )
        async with client:
            return await Checker(catalog).check(spec, client, "TOKEN")

    return asyncio.run(go())


declared_sets = st.lists(st.sampled_from(sorted(NEEDS, key=str)), min_size=1, unique=True)
granted_sets = st.sets(st.sampled_from(LABELS))
styles = st.sampled_from(["token_unauthorized", "forbidden"])
versions = st.sampled_from(["2.15", "2.16"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(declared=declared_sets, granted=granted_sets, fault_list=faults, style=styles, version=versions)
def test_nothing_is_granted_that_the_sandbox_does_not_grant(
    declared: list[Permission], granted: set[str], fault_list: list[dict[str, Any]], style: str, version: str
) -> None:
    box = sandbox_with(granted, fault_list, style)
    result = check(box, declared, version)
    for permission_result in result.permissions:
        if permission_result.verdict is Verdict.GRANTED:
            assert NEEDS[permission_result.permission] <= granted, permission_result
    # The tickets warning is silent only when Read tickets is granted (it is never a false all-clear).
    if CONVERSATIONS_READ in declared and TICKETS_READ not in declared and "Read tickets" not in granted:
        assert [w.code for w in result.warnings] == ["tickets_hidden_from_conversations"]
    assert box.log.mutations == []


def expected_verdict(permission: Permission, granted: set[str], version: str) -> Verdict:
    if permission in UNVERIFIABLE:
        return Verdict.UNVERIFIABLE
    if not NEEDS[permission] <= granted:
        return Verdict.MISSING
    return Verdict.INCONCLUSIVE if permission in ROUTE_MISS_LIKE[version] else Verdict.GRANTED


@settings(max_examples=150, deadline=None)
@given(declared=declared_sets, granted=granted_sets, style=styles, version=versions)
def test_without_faults_the_verdicts_are_the_set_arithmetic(
    declared: list[Permission], granted: set[str], style: str, version: str
) -> None:
    result = check(sandbox_with(granted, [], style), declared, version)
    expected = {permission: expected_verdict(permission, granted, version) for permission in declared}
    assert {item.permission: item.verdict for item in result.permissions} == expected
    hidden = CONVERSATIONS_READ in declared and TICKETS_READ not in declared and "Read tickets" not in granted
    assert [w.code for w in result.warnings] == (["tickets_hidden_from_conversations"] if hidden else [])


# --- no grant from a route miss (issue 10 item 4) --------------------------------------------------------

WRITE_ROUTES = sorted(key for key, route in ROUTES_BY_KEY.items() if route.is_write)


def _probe_routes(permission: Permission) -> set[str]:
    entry = load_catalog().probes_for(permission)
    assert entry is not None
    found = (match_route(probe.method, probe.path) for probe in entry.probes)
    return {matched[0].key for matched in found if matched is not None}


@settings(max_examples=100, deadline=None)
@given(
    declared=declared_sets,
    granted=granted_sets,
    absent=st.sets(st.sampled_from(WRITE_ROUTES), min_size=1),
    style=styles,
)
def test_a_route_answering_like_a_route_miss_never_grants(
    declared: list[Permission], granted: set[str], absent: set[str], style: str
) -> None:
    """Whatever write routes the sandbox answers as if Intercom did not serve them: nothing is granted that
    the token lacks, and nothing whose every probe went to such a route."""
    sandbox = sandbox_with(granted, [], style)
    sandbox.update(absent_routes=frozenset(absent))
    result = check(sandbox, declared)
    for permission_result in result.permissions:
        if permission_result.verdict is Verdict.GRANTED:
            assert NEEDS[permission_result.permission] <= granted, permission_result
            assert _probe_routes(permission_result.permission) - absent, permission_result
    assert sandbox.log.mutations == []


# --- a read's 2xx grants only on the documented shape of its whole body (issue 9, item 1) ---------------

# Written from the OpenAPI response schemas for this test alone: the array each list holds, its items'
# `type`, the JSON type of their `id`, and whether the list documents total_count and pages.
LISTS: dict[str, tuple[str, str, str, type, bool]] = {
    "/contacts": ("list", "data", "contact", str, True),
    "/companies/list": ("list", "data", "company", str, True),
    "/conversations": ("conversation.list", "conversations", "conversation", str, True),
    "/admins": ("admin.list", "admins", "admin", str, False),
    "/teams": ("team.list", "teams", "team", str, False),
    "/tags": ("list", "data", "tag", str, False),
    "/data_attributes": ("list", "data", "data_attribute", int, False),
    "/tickets/search": ("ticket.list", "tickets", "ticket", str, True),
    "/ticket_types": ("list", "data", "ticket_type", str, False),
    "/ticket_states": ("list", "data", "ticket_state", str, False),
    "/articles": ("list", "data", "article", str, True),
    "/segments": ("segment.list", "segments", "segment", str, False),
}
READ_PROBES = {
    probe.path: probe
    for probe in load_catalog().all_probes()
    if probe.path in LISTS and any(rule.status == 200 for rule in probe.answers)
}
ITEM_TYPES = sorted({entry[2] for entry in LISTS.values()} | {"error.list", "list", ""})

json_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=4)
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=8,
)
items = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"type": st.one_of(st.sampled_from(ITEM_TYPES), json_leaves)},
        optional={"id": json_leaves, "extra": json_values},
    ),
)
bodies = st.fixed_dictionaries(
    {"path": st.sampled_from(sorted(LISTS))},
    optional={
        "collection": st.one_of(json_values, st.lists(items, max_size=3)),
        "total_count": json_leaves,
        "pages": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {"type": st.just("pages")},
                optional={"page": json_leaves, "next": json_values, "per_page": st.integers(0, 50)},
            ),
        ),
        "extra": json_values,
    },
)


def _integer(value: Any) -> bool:
    """JSON's integers: 3 and 3.0 alike (JSON Schema's reading), never a boolean."""
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )


def documented(path: str, body: dict[str, Any]) -> bool:
    """Whether `body` has the documented shape, by this test's own reading of the description."""
    _, key, item_type, id_type, paged = LISTS[path]
    collection = body.get(key)
    if not isinstance(collection, list):
        return False
    for item in collection:
        if not isinstance(item, dict) or item.get("type") != item_type:
            return False
        if "id" in item and not (_integer(item["id"]) if id_type is int else isinstance(item["id"], str)):
            return False
    if paged and "total_count" in body and not _integer(body["total_count"]):
        return False
    if paged and "pages" in body:
        pages = body["pages"]
        if pages is not None and not (isinstance(pages, dict) and pages.get("type", "pages") == "pages"):
            return False
        for name, value in (pages or {}).items():
            if name in ("page", "per_page", "total_pages") and not _integer(value):
                return False
            if name == "next" and value is not None and not isinstance(value, dict):
                return False
    return True


@settings(max_examples=150, deadline=None)
@given(drawn=bodies)
def test_a_read_is_granted_exactly_when_its_body_has_the_documented_shape(drawn: dict[str, Any]) -> None:
    path = drawn["path"]
    body_type, key, _, _, _ = LISTS[path]
    body: dict[str, Any] = {"type": body_type}
    if "collection" in drawn:
        body[key] = drawn["collection"]
    for name in ("total_count", "pages", "extra"):
        if name in drawn:
            body[name] = drawn[name]
    probe = READ_PROBES[path]
    reply = Answer(
        probe.method,
        probe.path,
        200,
        body=body,
        body_is_json=True,
        headers={"content-type": "application/json"},
    )
    classified = classify(probe, reply, load_catalog().common_answers)
    assert (classified.verdict is Verdict.GRANTED) == documented(path, body), body


# --- the policy (issue 11): forbidden, excess, the same arithmetic, and no false pass in either direction ---


def judged(
    sandbox: Sandbox, declared: list[Permission], forbidden: list[Permission], excess: ExcessMode
) -> ConnectorResult:
    spec = ConnectorSpec(
        path="connector.yaml",
        name="property",
        workspace=Workspace("abc12xyz", "Acme Support"),
        auth=Auth(AuthMode.ACCESS_TOKEN),
        permissions=tuple(declared),
        policy=Policy(forbidden=tuple(forbidden), excess=excess),
    )

    async def no_wait(seconds: float) -> None:
        return None

    async def go() -> ConnectorResult:
        catalog = load_catalog()
        client = IntercomClient(
            "http://127.0.0.1",
            TOKEN,
            catalog.default_api_version,
            transport=SandboxTransport(sandbox),
            retry=RetryPolicy(jitter=0.0),
            sleep=no_wait,
        )
        async with client:
            checked = await Checker(catalog).check(spec, client, "TOKEN")
        return judge(checked, spec, catalog, PolicySettings(today=dt.date(2026, 6, 1)))

    return asyncio.run(go())


@st.composite
def policies(draw: st.DrawFn) -> tuple[list[Permission], list[Permission]]:
    everything = sorted(NEEDS, key=str)
    declared = draw(st.lists(st.sampled_from(everything), min_size=1, unique=True))
    others = [permission for permission in everything if permission not in declared]
    forbidden = draw(st.lists(st.sampled_from(others), unique=True)) if others else []
    return declared, forbidden


excess_modes = st.sampled_from(list(ExcessMode))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=policies(), granted=granted_sets, style=styles, excess=excess_modes)
def test_without_faults_policy_outcomes_are_the_set_arithmetic(
    drawn: tuple[list[Permission], list[Permission]], granted: set[str], style: str, excess: ExcessMode
) -> None:
    declared, forbidden = drawn
    result = judged(sandbox_with(granted, [], style), declared, forbidden, excess)
    catalog = load_catalog()
    version = catalog.default_api_version
    verdict = {permission: expected_verdict(permission, granted, version) for permission in NEEDS}
    needed_labels = set().union(*(NEEDS[permission] for permission in declared))
    undecided = PermissionOutcome.INCONCLUSIVE
    expected: dict[Permission, PermissionOutcome] = {}
    for permission in declared:
        expected[permission] = {
            Verdict.GRANTED: PermissionOutcome.OK,
            Verdict.MISSING: PermissionOutcome.FAIL,
        }.get(verdict[permission], undecided)
    for permission in forbidden:
        expected[permission] = {
            Verdict.GRANTED: PermissionOutcome.FAIL,
            Verdict.MISSING: PermissionOutcome.OK,
        }.get(verdict[permission], undecided)
    if excess is not ExcessMode.OFF:
        bad = PermissionOutcome.WARN if excess is ExcessMode.WARN else PermissionOutcome.FAIL
        for permission, entry in catalog.permissions.items():
            if permission in expected or not entry.probes:
                continue
            if verdict[permission] is Verdict.GRANTED:
                expected[permission] = PermissionOutcome.OK if NEEDS[permission] <= needed_labels else bad
            elif verdict[permission] is Verdict.MISSING:
                expected[permission] = PermissionOutcome.OK
            else:
                expected[permission] = PermissionOutcome.WARN if excess is ExcessMode.WARN else undecided
    assert {item.permission: item.outcome for item in result.permissions} == expected
    failing = any(outcome is PermissionOutcome.FAIL for outcome in expected.values())
    assert (result.exit_code == 1) == failing


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=policies(), granted=granted_sets, fault_list=faults, style=styles, excess=excess_modes)
def test_no_forbidden_permission_is_ok_without_proof_of_absence(
    drawn: tuple[list[Permission], list[Permission]],
    granted: set[str],
    fault_list: list[dict[str, Any]],
    style: str,
    excess: ExcessMode,
) -> None:
    declared, forbidden = drawn
    result = judged(sandbox_with(granted, fault_list, style), declared, forbidden, excess)
    for item in result.permissions:
        if item.declared is Declared.FORBIDDEN and item.outcome is PermissionOutcome.OK:
            assert not NEEDS[item.permission] <= granted, item  # truly absent, in the sandbox's own terms
            assert item.verdict is Verdict.MISSING
            # every probe refused with proof: one refused and another unanswered proves nothing of the other
            assert item.evidence
            assert all(e.verdict is Verdict.MISSING and e.strength is Strength.PROOF for e in item.evidence)
        if item.outcome is PermissionOutcome.OK and item.declared is Declared.REQUIRED:
            assert NEEDS[item.permission] <= granted, item
    if result.exit_code == 0:
        assert all(
            item.outcome is not PermissionOutcome.FAIL and item.outcome is not PermissionOutcome.INCONCLUSIVE
            for item in result.permissions
        )
