"""`connector-validator validate` end to end: the CLI as a subprocess, the sandbox over loopback HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness import ALL_LABELS, CANARY, EXAMPLE, default_config_data, run_cli, served, with_token, write_spec
from validator.sandbox.permissions import ROUTES

pytestmark = pytest.mark.e2e

# Which Developer Hub label grants which permission of the example, written from API-NOTES §4 for this
# test alone, so that it cannot share a mistake with the catalog or the sandbox's table.
GRANTED_BY = {
    "Read and list users and companies": {"people:read", "companies:read", "data_attributes:read"},
    "Write users and companies": {"people:write", "companies:write"},
    "Read conversations": {"conversations:read"},
    "Write conversations": {"conversations:write"},
    "Read admins": {"teams_and_teammates:read"},
    "Update admins": {"teams_and_teammates:write"},
    "Read tags": {"tags:read"},
    "Write tags": {"tags:write"},
    "Read counts": {"workspace_counts:read"},
    "Write data attributes": {"data_attributes:write"},
}
DECLARED = set().union(*GRANTED_BY.values())


def verdicts(report: dict[str, Any], index: int = 0) -> dict[str, str]:
    connector = report["connectors"][index]
    return {f"{p['data_type']}:{p['access']}": p["status"] for p in connector["permissions"]}


def validate_json(base_url: str, token: str, *args: str, spec: Path = EXAMPLE) -> tuple[int, dict[str, Any]]:
    run = run_cli(
        "validate", str(spec), "--format", "json", *args,
        env={"INTERCOM_ACCESS_TOKEN": token, "INTERCOM_API_URL": base_url},
    )  # fmt: skip
    return run.code, json.loads(run.stdout)


def test_a_token_with_every_permission_passes() -> None:
    with served() as world:
        code, report = validate_json(world.base_url, CANARY)
    assert code == 0 and report["outcome"] == "pass"
    assert set(verdicts(report).values()) == {"granted"}
    assert verdicts(report).keys() == DECLARED
    assert report["connectors"][0]["workspace"]["status"] == "match"


def test_the_text_report_shows_workspace_verdicts_and_evidence_strength() -> None:
    with served() as world:
        run = run_cli(
            "validate",
            str(EXAMPLE),
            env={"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": world.base_url},
        )
    assert run.code == 0
    assert 'abc12xyz "Acme Support" (us), as declared' in run.stdout
    assert (
        "GET /contacts?per_page=1 → 200 (proof)" in run.stdout or "GET /contacts → 200 (proof)" in run.stdout
    )
    assert "(inference)" in run.stdout
    assert "Result: PASS (exit 0" in run.stdout


@pytest.mark.parametrize("style", ["token_unauthorized", "forbidden"])
@pytest.mark.parametrize("label", sorted(GRANTED_BY))
def test_withholding_one_permission_reports_exactly_what_it_grants_as_missing(label: str, style: str) -> None:
    data = with_token(
        default_config_data(), "sandbox-test-token", [name for name in ALL_LABELS if name != label]
    )
    data["workspaces"][0]["missing_permission_style"] = {"default": style}
    with served(data) as world:
        code, report = validate_json(world.base_url, "sandbox-test-token")
    expected_missing = GRANTED_BY[label]
    assert code == 1 and report["outcome"] == "fail"
    assert {key for key, status in verdicts(report).items() if status == "missing"} == expected_missing
    assert {
        key for key, status in verdicts(report).items() if status == "granted"
    } == DECLARED - expected_missing
    for permission in report["connectors"][0]["permissions"]:
        if permission["status"] == "missing":
            assert label in permission["labels"]
            assert "authorize the app again" in permission["remediation"]  # the example uses oauth


@pytest.mark.parametrize("style", ["token_unauthorized", "forbidden"])
@pytest.mark.parametrize("permission", sorted(DECLARED))
def test_each_single_permission_missing_in_turn_is_reported_alone(permission: str, style: str) -> None:
    """One Developer Hub label covers several permissions, so the sandbox withholds exactly the routes of
    one data type and access level, taken from its own route table (not from the probe catalog)."""
    data_type, access = permission.split(":")
    withheld = [
        route.key
        for route in ROUTES
        if route.data_type is not None
        and str(route.data_type) == data_type
        and route.is_write == (access == "write")
    ]
    data = with_token(default_config_data(), "sandbox-test-token", "all", withheld_routes=withheld)
    data["workspaces"][0]["missing_permission_style"] = {"default": style}
    with served(data) as world:
        code, report = validate_json(world.base_url, "sandbox-test-token")
    assert code == 1
    assert {key for key, status in verdicts(report).items() if status != "granted"} == {permission}
    assert verdicts(report)[permission] == "missing"


@pytest.mark.parametrize(
    ("field", "edit"),
    [
        ("id", lambda text: text.replace("id: abc12xyz", "id: zzz99zzz")),
        ("region", lambda text: text.replace("region: us", "region: eu")),
        ("name", lambda text: text.replace("name: Acme Support", "name: Other Support")),
    ],
)
def test_a_workspace_mismatch_fails_the_connector(tmp_path: Path, field: str, edit: Any) -> None:
    spec = write_spec(tmp_path, edit)
    with served() as world:
        code, report = validate_json(world.base_url, CANARY, spec=spec)
    workspace = report["connectors"][0]["workspace"]
    assert code == 1 and workspace["status"] == "mismatch" and workspace["mismatches"] == [field]
    assert set(verdicts(report).values()) == {"granted"}  # the probes still ran and say so


@pytest.mark.parametrize("token", ["sandbox-not-a-real-token", "sandbox-revoked-0003"])
def test_an_invalid_or_revoked_token_is_rejected_and_nothing_is_probed(token: str) -> None:
    with served() as world:
        code, report = validate_json(world.base_url, token)
        sent = world.paths_sent()
    assert code == 3
    assert report["connectors"][0]["token"]["status"] == "rejected"
    assert report["connectors"][0]["permissions"] == []
    assert sent == ["GET /me"]


def test_an_unset_token_variable_is_a_usage_error_with_a_message() -> None:
    run = run_cli("validate", str(EXAMPLE), env={"INTERCOM_API_URL": "http://127.0.0.1:9"})
    assert run.code == 2
    assert "INTERCOM_ACCESS_TOKEN" in run.stdout and "not set" in run.stdout


def test_the_token_can_come_from_standard_input() -> None:
    with served() as world:
        run = run_cli(
            "validate",
            str(EXAMPLE),
            "--token-stdin",
            stdin=CANARY + "\n",
            env={"INTERCOM_API_URL": world.base_url},
        )
    assert run.code == 0 and "standard input" in run.stdout


def test_a_plan_restriction_is_not_a_missing_permission() -> None:
    data = default_config_data()
    data["workspaces"][0]["plan_restricted"] = ["conversations"]
    with served(data) as world:
        code, report = validate_json(world.base_url, CANARY)
    assert code == 1
    assert verdicts(report)["conversations:read"] == "plan_restricted"
    assert verdicts(report)["conversations:write"] == "plan_restricted"
    restricted = [p for p in report["connectors"][0]["permissions"] if p["status"] == "plan_restricted"]
    assert all("plan" in p["remediation"] for p in restricted)


FAST_RETRIES = ("--timeout", "0.5", "--retry-budget", "2")


@pytest.mark.parametrize(
    "fault",
    [
        {"route": "GET /tags", "kind": "status", "status": 503},
        {"route": "GET /tags", "kind": "latency", "ms": 1500},
        {"route": "GET /tags", "kind": "rate_limit"},
        {"route": "GET /tags", "kind": "html"},
        {"route": "GET /tags", "kind": "drop"},
        {"route": "GET /tags", "kind": "truncate"},
    ],
    ids=lambda fault: fault["kind"],
)
def test_an_answer_that_cannot_be_trusted_is_inconclusive_never_granted(fault: dict[str, Any]) -> None:
    data = default_config_data()
    data["faults"] = [fault]
    with served(data) as world:
        code, report = validate_json(world.base_url, CANARY, *FAST_RETRIES)
    assert verdicts(report)["tags:read"] == "inconclusive"
    assert code == 4 and report["outcome"] == "inconclusive"
    others = {key: status for key, status in verdicts(report).items() if key != "tags:read"}
    assert set(others.values()) == {"granted"}


def test_a_single_429_is_retried_after_the_reset_and_then_decided() -> None:
    data = default_config_data()
    data["faults"] = [{"route": "GET /tags", "kind": "rate_limit", "times": 1, "reset_in_s": 1}]
    with served(data) as world:
        code, report = validate_json(world.base_url, CANARY)
        tags_requests = [path for path in world.paths_sent() if path == "GET /tags"]
    assert code == 0 and verdicts(report)["tags:read"] == "granted"
    assert len(tags_requests) == 2


def test_with_several_files_the_most_severe_exit_code_wins(tmp_path: Path) -> None:
    rejected = write_spec(
        tmp_path, lambda text: text.replace("INTERCOM_ACCESS_TOKEN", "OTHER_TOKEN"), "b.yaml"
    )
    mismatch = write_spec(tmp_path, lambda text: text.replace("region: us", "region: eu"), "a.yaml")
    with served() as world:
        run = run_cli(
            "validate", str(mismatch), str(rejected), "--format", "json",
            env={"INTERCOM_ACCESS_TOKEN": CANARY, "OTHER_TOKEN": "sandbox-revoked-0003",
                 "INTERCOM_API_URL": world.base_url},
        )  # fmt: skip
    report = json.loads(run.stdout)
    assert [c["exit_code"] for c in report["connectors"]] == [1, 3]
    assert run.code == 3 == report["exit_code"]


def test_a_broken_connector_file_is_exit_2_with_file_line_col(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, lambda text: text.replace("region: us", "region: mars"))
    run = run_cli("validate", str(spec), env={"INTERCOM_ACCESS_TOKEN": CANARY})
    assert run.code == 2
    assert f"{spec}:11:11: 'mars' is not a valid workspace.region" in run.stdout


def test_output_file_gets_the_json_report_and_stdout_the_text(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "report.json"
    with served() as world:
        run = run_cli(
            "validate", str(EXAMPLE), "--format", "json", "--output", str(out),
            env={"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": world.base_url}, files=[out],
        )  # fmt: skip
    assert run.code == 0
    assert json.loads(out.read_text())["outcome"] == "pass"
    assert "Result: PASS" in run.stdout


def test_plain_http_to_a_remote_host_is_refused() -> None:
    run = run_cli(
        "validate",
        str(EXAMPLE),
        env={"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": "http://example.com"},
    )
    assert run.code == 2 and "https" in run.stderr


def test_no_write_probe_of_a_full_run_changes_data() -> None:
    with served() as world:
        validate_json(world.base_url, CANARY)
        assert world.sandbox.log.mutations == []
        writes = [entry for entry in world.sandbox.log.entries if entry.method != "GET"]
    assert {entry.status for entry in writes} <= {200, 400, 404}
    # The reads sent with POST: the company list, and the ticket search (Read tickets is probed alongside
    # conversations: [read], issue 10 item 2).
    reads = ("/companies/list", "/tickets/search")
    assert all(entry.status != 200 or entry.path in reads for entry in writes)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("x", "1 characters long"),
        ("has spaces in the middle of it", "spaces"),
        ("tok\u00e9n-0123456789abcdef", "non-ASCII"),
    ],
)
def test_a_value_that_cannot_be_a_token_is_refused_before_any_request(value: str, why: str) -> None:
    with served() as world:
        run = run_cli(
            "validate", str(EXAMPLE), env={"INTERCOM_ACCESS_TOKEN": value, "INTERCOM_API_URL": world.base_url}
        )
        sent = world.paths_sent()
    assert run.code == 2 and why in run.stdout and "not usable" in run.stdout
    assert sent == []


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (f"Bearer {CANARY}", "starts with 'Bearer '"),
        (f'{{"token": "{CANARY}"}}', "looks like JSON"),
        (f'"{CANARY}"', "wrapped in quotes"),
        (f"{CANARY}\n{CANARY}", "spans several lines"),
    ],
    ids=["bearer-header", "json-blob", "quoted", "two-lines"],
)
def test_a_set_but_malformed_token_is_called_malformed_with_what_looks_wrong(value: str, why: str) -> None:
    with served() as world:
        run = run_cli(
            "validate", str(EXAMPLE), env={"INTERCOM_ACCESS_TOKEN": value, "INTERCOM_API_URL": world.base_url}
        )
        sent = world.paths_sent()
    assert run.code == 2 and sent == []
    assert "token:      MALFORMED: " in run.stdout and why in run.stdout
    [connector] = json.loads(run.reports["json"])["connectors"]
    assert connector["token"]["status"] == "malformed" and why in connector["token"]["message"]
    assert "**malformed**" in run.reports["markdown"]


def test_an_unset_token_variable_is_still_called_missing() -> None:
    with served() as world:
        run = run_cli("validate", str(EXAMPLE), "--format", "json", env={"INTERCOM_API_URL": world.base_url})
    [connector] = json.loads(run.stdout)["connectors"]
    assert run.code == 2 and connector["token"]["status"] == "missing"


def test_a_report_target_that_cannot_be_written_is_refused_before_any_request(tmp_path: Path) -> None:
    with served() as world:
        run = run_cli(
            "validate", str(EXAMPLE), "--output", str(tmp_path),
            env={"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": world.base_url},
        )  # fmt: skip
        sent = world.paths_sent()
    assert run.code == 2 and "is a directory" in run.stderr
    assert sent == []
