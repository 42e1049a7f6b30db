"""Issue 10 items 1, 2 and 5 end to end: the help-desk data types, the tickets-hidden warning, versions.

The CLI runs as a subprocess against the sandbox over loopback HTTP; every run also writes every side report,
checked against its schema (harness). The suite's mutation guard checks that nothing was written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness import ALL_LABELS, default_config_data, run_cli, served, with_token

pytestmark = pytest.mark.e2e

TOKEN = "sandbox-helpdesk-token"

# Which Developer Hub label grants which new permission, written from API-NOTES §8 for this test alone (the
# inferred labels as the catalog infers them), so that it cannot share a mistake with the catalog or sandbox.
GRANTED_BY = {
    "Read tickets": {"tickets:read"},
    "Write tickets": {"tickets:write"},
    "Read and List articles": {"articles:read", "help_center:read"},
    "Read and Write Articles": {"articles:write"},
    "Read and list users and companies": {"notes:read", "segments:read"},
    "Write users and companies": {"notes:write"},
    "Read admin activity logs": {"admin_activity_logs:read"},
    "Read events": {"events:read"},
}
# Every new permission a token can be shown to have (help_center write rests on a route-miss-like 404, and
# events write has no safe probe: neither can ever be granted).
GRANTABLE = set().union(*GRANTED_BY.values())


def spec_text(permissions: dict[str, list[str]], api_version: str | None = None) -> str:
    lines = [
        "version: 1",
        "name: helpdesk-migration",
        "platform: intercom",
        "workspace: {id: abc12xyz, name: Acme Support}",
        "auth: {mode: access_token}",
    ]
    if api_version is not None:
        lines.append(f'api_version: "{api_version}"')
    lines.append("permissions:")
    lines += [f"  {data_type}: [{', '.join(levels)}]" for data_type, levels in permissions.items()]
    return "\n".join(lines) + "\n"


def declared(permissions: set[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in sorted(permissions):
        data_type, access = item.split(":")
        found.setdefault(data_type, []).append(access)
    return {key: sorted(levels) for key, levels in found.items()}


def validate(
    tmp_path: Path,
    base_url: str,
    permissions: dict[str, list[str]],
    api_version: str | None = None,
    fmt: str = "json",
) -> tuple[int, Any, Any]:
    path = tmp_path / "connector.yaml"
    path.write_text(spec_text(permissions, api_version), encoding="utf-8")
    run = run_cli(
        "validate", str(path), "--format", fmt,
        env={"INTERCOM_ACCESS_TOKEN": TOKEN, "INTERCOM_API_URL": base_url},
    )  # fmt: skip
    report = json.loads(run.reports["json"])
    return run.code, report, run


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {f"{p['data_type']}:{p['access']}": p["status"] for p in report["connectors"][0]["permissions"]}


def world(
    labels: list[str] | str, style: str = "token_unauthorized", versions: list[str] | None = None
) -> Any:
    data = with_token(default_config_data(), TOKEN, labels)
    data["workspaces"][0]["missing_permission_style"] = {"default": style}
    if versions is not None:
        data["api_versions"] = versions
    return data


@pytest.mark.parametrize("version", ["2.15", "2.16"])
def test_every_new_permission_granted_passes(tmp_path: Path, version: str) -> None:
    grantable = GRANTABLE - ({"articles:write"} if version == "2.15" else set())
    with served(world("all")) as served_world:
        code, report, _ = validate(tmp_path, served_world.base_url, declared(grantable), version)
        sent = served_world.paths_sent()
    assert verdicts(report) == dict.fromkeys(grantable, "granted")
    assert code == 0 and report["outcome"] == "pass"
    assert report["connectors"][0]["warnings"] == []
    assert report["connectors"][0]["api_version"] == version
    write_probe = "PUT /tickets/0" if version == "2.15" else "POST /tickets/0/linked_conversations"
    assert write_probe in sent


@pytest.mark.parametrize("style", ["token_unauthorized", "forbidden"])
@pytest.mark.parametrize("label", sorted(GRANTED_BY))
def test_withholding_one_label_makes_exactly_its_permissions_missing(
    tmp_path: Path, label: str, style: str
) -> None:
    with served(world([name for name in ALL_LABELS if name != label], style)) as served_world:
        code, report, _ = validate(tmp_path, served_world.base_url, declared(GRANTABLE))
    missing = {key for key, status in verdicts(report).items() if status == "missing"}
    assert missing == GRANTED_BY[label]
    assert set(verdicts(report).values()) <= {"granted", "missing"}
    assert code == 1
    for permission in report["connectors"][0]["permissions"]:
        if permission["status"] == "missing":
            assert label in permission["labels"], permission
            assert f'"{label}"' in permission["remediation"]


def test_events_write_is_unverifiable_and_never_sent(tmp_path: Path) -> None:
    with served(world("all")) as served_world:
        code, report, run = validate(
            tmp_path, served_world.base_url, {"events": ["read", "write"]}, fmt="text"
        )
        sent = served_world.paths_sent()
    assert verdicts(report) == {"events:read": "granted", "events:write": "unverifiable"}
    assert code == 4
    assert not any(line.startswith("POST /events") for line in sent)
    assert "Write events" in run.stdout


def test_help_center_write_on_a_route_miss_answer_is_inconclusive(tmp_path: Path) -> None:
    with served(world("all")) as served_world:
        code, report, _ = validate(tmp_path, served_world.base_url, {"help_center": ["write"]})
    [result] = report["connectors"][0]["permissions"]
    assert result["status"] == "inconclusive" and code == 4
    with served(world([name for name in ALL_LABELS if name != "Read and Write Articles"])) as served_world:
        code, report, _ = validate(tmp_path, served_world.base_url, {"help_center": ["write"]})
    assert verdicts(report) == {"help_center:write": "missing"} and code == 1


def test_a_2_16_only_route_is_never_sent_with_2_15(tmp_path: Path) -> None:
    with served(world("all")) as served_world:
        validate(tmp_path, served_world.base_url, {"tickets": ["write"], "notes": ["write"]}, "2.15")
        sent = served_world.paths_sent()
    assert "POST /tickets/0/linked_conversations" not in sent
    assert not any(line.startswith("POST /companies/") and line.endswith("/notes") for line in sent)
    assert "POST /contacts/000000000000000000000000/notes" in sent


# --- item 2: tickets hidden from conversations -----------------------------------------------------------

NO_READ_TICKETS = [name for name in ALL_LABELS if name != "Read tickets"]


@pytest.mark.parametrize("style", ["token_unauthorized", "forbidden"])
def test_conversations_without_read_tickets_warn_in_every_format_and_keep_exit_0(
    tmp_path: Path, style: str
) -> None:
    with served(world(NO_READ_TICKETS, style)) as served_world:
        code, report, run = validate(tmp_path, served_world.base_url, {"conversations": ["read"]}, fmt="text")
        sent = served_world.paths_sent()
    assert code == 0 and report["outcome"] == "pass"
    assert verdicts(report) == {"conversations:read": "granted"}  # the extra probe is not a permission
    [warning] = report["connectors"][0]["warnings"]
    assert warning["code"] == "tickets_hidden_from_conversations"
    assert warning["labels"] == ["Read tickets"] and warning["level"] == "warning"
    assert warning["permission"] == {"data_type": "conversations", "access": "read"}
    assert "leave out every conversation that is a ticket" in warning["message"]
    assert "POST /tickets/search" in sent
    assert "leave out every" in run.stdout and "Read tickets" in run.stdout
    assert run.reports["github"].startswith("::warning ") and "leave out every" in run.reports["github"]
    assert "tickets_hidden_from_conversations" in run.reports["sarif"]
    assert "leave out every" in run.reports["junit"] and "leave out every" in run.reports["markdown"]


def test_no_ticket_warning_when_the_token_has_read_tickets(tmp_path: Path) -> None:
    with served(world("all")) as served_world:
        code, report, _ = validate(tmp_path, served_world.base_url, {"conversations": ["read"]})
    assert code == 0 and report["connectors"][0]["warnings"] == []


def test_no_ticket_warning_when_tickets_read_is_declared(tmp_path: Path) -> None:
    with served(world(NO_READ_TICKETS)) as served_world:
        code, report, _ = validate(
            tmp_path, served_world.base_url, {"conversations": ["read"], "tickets": ["read"]}
        )
    assert report["connectors"][0]["warnings"] == []
    assert verdicts(report) == {"conversations:read": "granted", "tickets:read": "missing"}
    assert code == 1


def test_an_undecided_ticket_probe_says_the_warning_could_not_be_ruled_out(tmp_path: Path) -> None:
    data = world("all")
    data["faults"] = [{"route": "GET /ticket_types", "kind": "status", "status": 503}]
    with served(data) as served_world:
        code, report, _ = validate(tmp_path, served_world.base_url, {"conversations": ["read"]})
    [warning] = report["connectors"][0]["warnings"]
    assert warning["code"] == "tickets_hidden_from_conversations"
    assert "could not be ruled out" in warning["message"]
    assert code == 0


# --- item 5: versions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2.17", "Preview"])
def test_an_unchecked_version_is_accepted_with_a_warning(tmp_path: Path, version: str) -> None:
    data = world("all", versions=["2.15", "2.16", version])
    with served(data) as served_world:
        code, report, run = validate(
            tmp_path, served_world.base_url, {"tickets": ["read", "write"]}, version, fmt="text"
        )
    assert verdicts(report) == {"tickets:read": "granted", "tickets:write": "granted"}
    assert code == 0
    [warning] = report["connectors"][0]["warnings"]
    assert warning["code"] == "api_version_unchecked"
    assert version in warning["message"] and "2.15 and 2.16" in warning["message"]
    assert warning["position"] is not None and warning["position"]["line"] == 6
    assert "::warning " in run.reports["github"] and "2.15 and 2.16" in run.reports["github"]


def test_plan_and_lint_accept_the_new_types_and_preview(tmp_path: Path) -> None:
    path = tmp_path / "connector.yaml"
    path.write_text(spec_text(declared(GRANTABLE | {"events:write", "help_center:write"}), "Preview"))
    assert run_cli("lint", str(path)).code == 0
    planned = run_cli("plan", str(path))
    assert planned.code == 0
    assert "no safe request proves it" in planned.stdout and "api_version_unchecked" in planned.stdout


@pytest.mark.parametrize("data_type", ["segments", "admin_activity_logs"])
def test_a_write_on_a_read_only_type_is_a_schema_error(tmp_path: Path, data_type: str) -> None:
    path = tmp_path / "connector.yaml"
    path.write_text(spec_text({data_type: ["read", "write"]}))
    run = run_cli("lint", str(path))
    assert run.code == 1  # lint: the file is invalid
    assert f"declare {data_type}: [read]" in run.stdout + run.stderr
