"""Issue 10 items 1, 2, 5 in the checker: the help-desk data types, the tickets-hidden warning, versions.

Runs the real checker and client against the sandbox's in-process transport.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import httpx
import pytest

from validator.catalog import load_catalog
from validator.checker import API_VERSION_UNCHECKED, TICKETS_HIDDEN, Checker
from validator.errors import ExitCode
from validator.intercom import IntercomClient
from validator.model import Access, Auth, AuthMode, ConnectorSpec, DataType, Permission, Verdict, Workspace
from validator.pacing import RetryPolicy
from validator.report import ConnectorResult, NoticeLevel
from validator.sandbox import FaultConfig, FaultKind, Sandbox, SandboxTransport, TokenConfig
from validator.sandbox.config import default_config
from validator.sandbox.permissions import ALL_LABELS, Label

CATALOG = load_catalog()
CONVERSATIONS_READ = Permission(DataType.CONVERSATIONS, Access.READ)
TICKETS_READ = Permission(DataType.TICKETS, Access.READ)
TOKEN = "helpdesk-unit-token"


def sandbox(*labels: Label, versions: tuple[str, ...] = ("2.15", "2.16")) -> Sandbox:
    base = default_config()
    token = TokenConfig(value=TOKEN, workspace="abc12xyz", admin="991267459", permissions=frozenset(labels))
    return Sandbox(dataclasses.replace(base, tokens=(*base.tokens, token), api_versions=versions))


def spec(*permissions: Permission, api_version: str | None = None) -> ConnectorSpec:
    return ConnectorSpec(
        path="connector.yaml",
        name="helpdesk",
        workspace=Workspace("abc12xyz", "Acme Support"),
        auth=Auth(AuthMode.ACCESS_TOKEN),
        permissions=permissions,
        api_version=api_version,
    )


def check(box: Sandbox, declared: ConnectorSpec, transport: httpx.AsyncBaseTransport | None = None) -> Any:
    async def no_wait(seconds: float) -> None:
        return None

    async def go() -> ConnectorResult:
        client = IntercomClient(
            "http://127.0.0.1",
            TOKEN,
            CATALOG.api_version_for(declared),
            transport=transport or SandboxTransport(box),
            retry=RetryPolicy(jitter=0.0),
            sleep=no_wait,
        )
        async with client:
            return await Checker(CATALOG).check(declared, client, "TOKEN")

    return asyncio.run(go())


def sent(box: Sandbox) -> list[str]:
    return [f"{entry.method} {entry.path}" for entry in box.log.entries]


# --- item 2: tickets hidden from conversations -----------------------------------------------------------


def test_conversations_read_without_read_tickets_warns_and_keeps_the_exit_code() -> None:
    box = sandbox(*(ALL_LABELS - {Label.READ_TICKETS}))
    result = check(box, spec(CONVERSATIONS_READ))
    assert [(p.permission, p.verdict) for p in result.permissions] == [(CONVERSATIONS_READ, Verdict.GRANTED)]
    [warning] = result.warnings
    assert (warning.code, warning.level, warning.labels) == (
        TICKETS_HIDDEN,
        NoticeLevel.WARNING,
        ("Read tickets",),
    )
    assert warning.permission == CONVERSATIONS_READ
    assert "leave out every conversation that is a ticket" in warning.message
    assert "could not be ruled out" not in warning.message
    assert result.exit_code is ExitCode.OK
    assert "POST /tickets/search" in sent(box)


def test_no_warning_when_the_token_has_read_tickets_and_the_probe_stays_out_of_permissions() -> None:
    box = sandbox(*ALL_LABELS)
    result = check(box, spec(CONVERSATIONS_READ))
    assert result.warnings == ()
    assert [p.permission for p in result.permissions] == [CONVERSATIONS_READ]
    assert {"POST /tickets/search", "GET /ticket_types", "GET /ticket_states"} <= set(sent(box))


def test_no_warning_and_no_extra_probe_when_tickets_read_is_declared() -> None:
    box = sandbox(*(ALL_LABELS - {Label.READ_TICKETS}))
    result = check(box, spec(CONVERSATIONS_READ, TICKETS_READ))
    assert result.warnings == ()
    verdicts = {p.permission: p.verdict for p in result.permissions}
    assert verdicts == {CONVERSATIONS_READ: Verdict.GRANTED, TICKETS_READ: Verdict.MISSING}
    assert sent(box).count("POST /tickets/search") == 1
    assert result.exit_code is ExitCode.FAILED


def test_no_ticket_probe_without_conversations_read() -> None:
    box = sandbox(*ALL_LABELS)
    result = check(box, spec(Permission(DataType.CONVERSATIONS, Access.WRITE)))
    assert result.warnings == ()
    assert not any("/ticket" in line for line in sent(box))


def test_an_inconclusive_ticket_probe_says_the_warning_could_not_be_ruled_out() -> None:
    box = sandbox(*ALL_LABELS)
    box.add_fault(FaultConfig(route="POST /tickets/search", kind=FaultKind.STATUS, status=503))
    result = check(box, spec(CONVERSATIONS_READ))
    [warning] = result.warnings
    assert warning.code == TICKETS_HIDDEN
    assert "could not be ruled out" in warning.message and "inconclusive" in warning.message
    assert [p.verdict for p in result.permissions] == [Verdict.GRANTED]
    assert result.exit_code is ExitCode.OK


def test_the_ticket_probe_runs_in_the_same_concurrent_round_as_the_declared_ones() -> None:
    """All four probes (conversations, and the three of Read tickets) are in flight at once: a transport that
    holds every request until four have arrived would time out (bounded) if any waited for another."""
    box = sandbox(*ALL_LABELS)
    inner = SandboxTransport(box)
    arrived: list[str] = []

    class Gate(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.all_in = asyncio.Event()

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path != "/me":
                arrived.append(request.url.path)
                if len(arrived) >= 4:
                    self.all_in.set()
                await asyncio.wait_for(self.all_in.wait(), timeout=5)
            return await inner.handle_async_request(request)

    result = check(box, spec(CONVERSATIONS_READ), transport=Gate())
    assert sorted(arrived) == ["/conversations", "/ticket_states", "/ticket_types", "/tickets/search"]
    assert result.warnings == ()


# --- item 5: versions ------------------------------------------------------------------------------------


def test_each_version_sends_its_own_tickets_write_probe() -> None:
    write = Permission(DataType.TICKETS, Access.WRITE)
    for version, expected, absent in (
        ("2.15", "PUT /tickets/0", "POST /tickets/0/linked_conversations"),
        ("2.16", "POST /tickets/0/linked_conversations", "PUT /tickets/0"),
    ):
        box = sandbox(*ALL_LABELS)
        result = check(box, spec(write, api_version=version))
        assert [p.verdict for p in result.permissions] == [Verdict.GRANTED], version
        assert expected in sent(box) and absent not in sent(box), version
        assert result.warnings == ()
        assert box.log.mutations == []


@pytest.mark.parametrize("version", ["2.17", "Preview"])
def test_an_unchecked_version_is_used_with_the_default_probes_and_a_warning(version: str) -> None:
    box = sandbox(*ALL_LABELS, versions=("2.15", "2.16", version))
    write = Permission(DataType.TICKETS, Access.WRITE)
    result = check(box, spec(write, api_version=version))
    [warning] = result.warnings
    assert warning.code == API_VERSION_UNCHECKED and warning.level is NoticeLevel.WARNING
    assert version in warning.message and "2.15 and 2.16" in warning.message
    assert [p.verdict for p in result.permissions] == [Verdict.GRANTED]
    assert "POST /tickets/0/linked_conversations" in sent(box)  # the 2.16 probes
    assert {entry.headers.get("intercom-version") for entry in box.log.entries} == {version}
    assert result.exit_code is ExitCode.OK


def test_a_checked_version_gets_no_version_warning() -> None:
    for version in (None, "2.15", "2.16"):
        result = check(
            sandbox(*ALL_LABELS), spec(Permission(DataType.SEGMENTS, Access.READ), api_version=version)
        )
        assert result.warnings == (), version


# --- item 1: the new data types --------------------------------------------------------------------------


def test_events_write_is_unverifiable_and_nothing_is_sent_for_it() -> None:
    box = sandbox(*ALL_LABELS)
    result = check(box, spec(Permission(DataType.EVENTS, Access.WRITE)))
    assert [p.verdict for p in result.permissions] == [Verdict.UNVERIFIABLE]
    assert sent(box) == ["GET /me"]
    assert CATALOG.permissions[Permission(DataType.EVENTS, Access.WRITE)].unverifiable_because


def test_a_bare_not_found_like_the_route_miss_control_never_grants() -> None:
    """help_center write (and 2.15 articles write) rest on the bare 404 a route miss also gives: the
    sandbox's route miss answers the same, so the control shows nothing and the verdict is inconclusive."""
    for version, permission in (
        ("2.16", Permission(DataType.HELP_CENTER, Access.WRITE)),
        ("2.15", Permission(DataType.ARTICLES, Access.WRITE)),
    ):
        box = sandbox(*ALL_LABELS)
        result = check(box, spec(permission, api_version=version))
        [only] = result.permissions
        assert only.verdict is Verdict.INCONCLUSIVE, version
        assert "route it does not serve" in (only.evidence[0].note or "")
        assert any("/connector_validator_route_check/" in line for line in sent(box))


def test_the_schemas_name_every_data_type() -> None:
    """connector.yaml, the JSON report and the catalog know the same data types."""
    import json
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    report = json.loads((repo / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
    connector = json.loads((repo / "schemas" / "connector.schema.json").read_text(encoding="utf-8"))
    connector_result = report["$defs"][report["properties"]["connectors"]["items"]["$ref"].split("/")[-1]]
    permission = connector_result["properties"]["permissions"]["items"]
    assert permission["properties"]["data_type"]["enum"] == [member.value for member in DataType]
    assert list(connector["properties"]["permissions"]["properties"]) == [member.value for member in DataType]
    assert {p.data_type for p in CATALOG.permissions} == set(DataType)
    for read_only in ("workspace_counts", "segments", "admin_activity_logs"):
        levels = connector["properties"]["permissions"]["properties"][read_only]["items"]["enum"]
        assert levels == ["read"], read_only
        assert Permission(DataType(read_only), Access.WRITE) not in CATALOG.permissions


def test_the_readme_says_what_proves_every_permission() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### What proves each permission", 1)[1].split("\n\n**", 1)[0]
    for permission in CATALOG.permissions:
        row = f"| `{permission.data_type}` | {permission.access} |"
        assert row in section, row
    assert section.count("\n| `") == len(CATALOG.permissions)


def test_the_sandbox_filters_ticket_searches_and_activity_logs_as_asked() -> None:
    box = sandbox(*ALL_LABELS)
    headers = {"Authorization": f"Bearer {TOKEN}", "Intercom-Version": "2.16"}
    with httpx.Client(
        transport=SandboxTransport(box), base_url="https://api.intercom.io", headers=headers
    ) as c:
        search = {"query": {"field": "id", "operator": "=", "value": "0"}, "pagination": {"per_page": 1}}
        assert c.post("/tickets/search", json=search).json()["tickets"] == []
        search["query"]["value"] = "633"  # type: ignore[index]
        assert [t["id"] for t in c.post("/tickets/search", json=search).json()["tickets"]] == ["633"]
        window = {"created_at_after": "1677253093", "created_at_before": "1677253094"}
        assert c.get("/admins/activity_logs", params=window).json()["activity_logs"] == []
        assert (
            len(c.get("/admins/activity_logs", params={"created_at_after": "0"}).json()["activity_logs"]) == 1
        )
    assert box.log.mutations == []


def test_a_missing_verdict_on_an_inferred_label_says_so() -> None:
    from validator.advice import advise

    box = sandbox(*(ALL_LABELS - {Label.READ_ARTICLES}))
    declared = spec(Permission(DataType.HELP_CENTER, Access.READ), Permission(DataType.ARTICLES, Access.READ))
    result = advise(check(box, declared), CATALOG, declared)
    by_type = {p.data_type: p for p in result.permissions}
    inferred, documented = by_type[DataType.HELP_CENTER], by_type[DataType.ARTICLES]
    assert inferred.verdict is documented.verdict is Verdict.MISSING
    assert inferred.labels == documented.labels == ("Read and List articles",)
    assert inferred.labels_inferred and not documented.labels_inferred
    assert "inferred" in (inferred.remediation or "") and "inferred" not in (documented.remediation or "")
