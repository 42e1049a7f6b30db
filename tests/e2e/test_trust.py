"""Issue 10 items 3 and 4 end to end: the CLI as a subprocess against the loopback sandbox in the two worlds
of each sandbox switch.

- `me_requires_read_admins`: `GET /me` needs "Read admins" (as Intercom's old references say). A valid token
  without it is still valid; its workspace is `unverified` (exit 1, tick "Read admins"), and its declared
  permissions are probed all the same. Off, the same token passes.
- `absent_routes`: a write route answered as if Intercom did not serve it (the route-miss 404). The
  permission it would prove is `inconclusive`, never `granted`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness import ALL_LABELS, EXAMPLE, default_config_data, run_cli, served, with_token, write_spec

pytestmark = pytest.mark.e2e

TOKEN = "sandbox-trust-token-0001"
NO_READ_ADMINS = [label for label in ALL_LABELS if label not in ("Read admins", "Read one admin")]
WORKSPACE_LINE = 8  # `workspace:` in the example connector.yaml


def without_teams_read(text: str) -> str:
    """The example without teams_and_teammates: read, which "Read admins" grants on its own."""
    return text.replace("teams_and_teammates: [read, write]", "teams_and_teammates: [write]")


def world(
    labels: list[str] | str, *, me_requires_read_admins: bool, style: str = "token_unauthorized"
) -> Any:
    data = with_token(default_config_data(), TOKEN, labels)
    data["me_requires_read_admins"] = me_requires_read_admins
    data["workspaces"][0]["missing_permission_style"] = {"default": style}
    return data


def validate(base_url: str, spec: Path, *args: str) -> Any:
    return run_cli(
        "validate", str(spec), *args, env={"INTERCOM_ACCESS_TOKEN": TOKEN, "INTERCOM_API_URL": base_url}
    )


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {f"{p['data_type']}:{p['access']}": p["status"] for p in report["connectors"][0]["permissions"]}


# --- /me without "Read admins" (item 3) ---------------------------------------------------------------


@pytest.mark.parametrize("style", ["token_unauthorized", "forbidden"])
def test_me_needing_read_admins_without_it_is_a_valid_token_and_an_unverified_workspace(
    tmp_path: Path, style: str
) -> None:
    spec = write_spec(tmp_path, without_teams_read)
    with served(world(NO_READ_ADMINS, me_requires_read_admins=True, style=style)) as sandbox:
        run = validate(sandbox.base_url, spec, "--format", "json")
        sent = sandbox.paths_sent()
    assert run.code == 1, run.stderr
    report = json.loads(run.stdout)
    connector = report["connectors"][0]
    assert connector["token"]["status"] == "valid"
    assert connector["workspace"]["status"] == "unverified"
    assert connector["workspace"]["actual"] is None
    assert connector["workspace"]["labels"] == ["Read admins"]
    assert 'tick "Read admins"' in connector["workspace"]["remediation"]
    assert connector["workspace"]["position"] == {"line": WORKSPACE_LINE, "col": 1}
    # The permissions were still probed, and are granted.
    assert set(verdicts(report).values()) == {"granted"}
    assert "GET /contacts" in sent and "PUT /companies/000000000000000000000000" in sent
    # Every format shows it sensibly.
    reports = run.reports
    assert "**not verified**" in reports["markdown"]
    github = [line for line in reports["github"].splitlines() if "Workspace not verified" in line]
    assert len(github) == 1 and github[0].startswith(f"::error file={spec},line={WORKSPACE_LINE},")
    [result] = [
        r for r in json.loads(reports["sarif"])["runs"][0]["results"] if r["ruleId"] == "workspace-unverified"
    ]
    assert result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == WORKSPACE_LINE
    assert re.search(
        r'<testcase name="workspace"[^>]*>\s*<failure [^>]*type="workspace-unverified"', reports["junit"]
    )


def test_the_text_report_says_the_workspace_is_not_verified_and_what_to_tick(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, without_teams_read)
    with served(world(NO_READ_ADMINS, me_requires_read_admins=True)) as sandbox:
        run = validate(sandbox.base_url, spec)
    assert run.code == 1
    assert "token:      valid" in run.stdout
    assert "workspace:  NOT VERIFIED" in run.stdout
    assert 'tick "Read admins"' in " ".join(run.stdout.split())
    assert "Result: FAIL (exit 1" in run.stdout


def test_me_needing_read_admins_with_it_passes() -> None:
    with served(world("all", me_requires_read_admins=True)) as sandbox:
        run = validate(sandbox.base_url, EXAMPLE, "--format", "json")
    assert run.code == 0, run.stdout
    report = json.loads(run.stdout)
    assert report["connectors"][0]["workspace"]["status"] == "match"
    assert set(verdicts(report).values()) == {"granted"}


def test_the_same_token_passes_where_me_needs_no_permission(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, without_teams_read)
    with served(world(NO_READ_ADMINS, me_requires_read_admins=False)) as sandbox:
        run = validate(sandbox.base_url, spec, "--format", "json")
    assert run.code == 0, run.stdout
    assert json.loads(run.stdout)["connectors"][0]["workspace"]["status"] == "match"


def test_an_unverified_workspace_with_a_missing_permission_names_both_fixes() -> None:
    """The example declares teams_and_teammates: read, which needs "Read admins" too."""
    with served(world(NO_READ_ADMINS, me_requires_read_admins=True)) as sandbox:
        run = validate(sandbox.base_url, EXAMPLE, "--format", "json")
    assert run.code == 1
    report = json.loads(run.stdout)
    assert report["connectors"][0]["workspace"]["status"] == "unverified"
    assert {key for key, value in verdicts(report).items() if value != "granted"} == {
        "teams_and_teammates:read"
    }
    assert verdicts(report)["teams_and_teammates:read"] == "missing"


def test_a_rejected_token_is_still_exit_3_where_me_needs_read_admins() -> None:
    with served(world("all", me_requires_read_admins=True)) as sandbox:
        run = run_cli(
            "validate", str(EXAMPLE), "--format", "json",
            env={"INTERCOM_ACCESS_TOKEN": "sandbox-revoked-0003", "INTERCOM_API_URL": sandbox.base_url},
        )  # fmt: skip
        sent = sandbox.paths_sent()
    assert run.code == 3
    assert json.loads(run.stdout)["connectors"][0]["token"]["status"] == "rejected"
    assert sent == ["GET /me"]


def test_init_writes_no_workspace_it_could_not_read(tmp_path: Path) -> None:
    output = tmp_path / "connector.yaml"
    with served(world(NO_READ_ADMINS, me_requires_read_admins=True)) as sandbox:
        run = run_cli(
            "init", "--api-url", sandbox.base_url, "--output", str(output),
            env={"INTERCOM_ACCESS_TOKEN": TOKEN},
        )  # fmt: skip
    assert run.code == 1
    assert not output.exists()
    message = " ".join(run.stderr.split())
    assert "the token is valid" in message and 'tick "Read admins"' in message
    assert "nothing" in message or "no connector.yaml was written" in message
    assert len(run.stderr.strip().splitlines()) == 1


def test_init_works_once_me_is_readable(tmp_path: Path) -> None:
    output = tmp_path / "connector.yaml"
    with served(world("all", me_requires_read_admins=True)) as sandbox:
        run = run_cli(
            "init", "--api-url", sandbox.base_url, "--output", str(output),
            env={"INTERCOM_ACCESS_TOKEN": TOKEN},
        )  # fmt: skip
    assert run.code == 0, run.stderr
    assert re.search(r"^  id: \"?abc12xyz\"?", output.read_text(encoding="utf-8"), re.MULTILINE)


# --- a write route answering like a route miss (item 4) -----------------------------------------------

# Which permission each write route of the sandbox proves, and the verdict when that route alone is absent,
# written for this test from API-NOTES §3/§5 and the catalog's documented fingerprints: every route the
# permission rests on alone → inconclusive. conversations:write has two alternative proofs, but where a
# route miss answers like a missing conversation (the sandbox) only POST /conversations can decide it.
ABSENT = {
    "POST /contacts/{id}/companies": ("people:write", "inconclusive"),
    "PUT /companies/{id}": ("companies:write", "inconclusive"),
    "PUT /conversations/{id}": ("conversations:write", "granted"),
    "POST /conversations": ("conversations:write", "inconclusive"),  # the bare PUT answer proves nothing
    "PUT /admins/{id}/away": ("teams_and_teammates:write", "inconclusive"),
    "POST /tags": ("tags:write", "inconclusive"),
    "PUT /data_attributes/{id}": ("data_attributes:write", "inconclusive"),
}


@pytest.mark.parametrize("route", sorted(ABSENT))
def test_a_write_route_answering_like_a_route_miss_is_never_granted(route: str) -> None:
    data = default_config_data()
    data["absent_routes"] = [route]
    permission, expected = ABSENT[route]
    with served(data) as sandbox:
        run = run_cli(
            "validate", str(EXAMPLE), "--format", "json",
            env={"INTERCOM_ACCESS_TOKEN": "sandbox-full-access-0001", "INTERCOM_API_URL": sandbox.base_url},
        )  # fmt: skip
        mutations = sandbox.sandbox.log.mutations
    report = json.loads(run.stdout)
    found = verdicts(report)
    assert found[permission] == expected, report["connectors"][0]["permissions"]
    assert {key for key, value in found.items() if value != "granted"} == (
        {permission} if expected != "granted" else set()
    )
    assert run.code == (4 if expected == "inconclusive" else 0)
    assert mutations == []


def test_both_conversation_write_routes_absent_is_inconclusive() -> None:
    data = default_config_data()
    data["absent_routes"] = ["PUT /conversations/{id}", "POST /conversations"]
    with served(data) as sandbox:
        run = run_cli(
            "validate", str(EXAMPLE), "--format", "json",
            env={"INTERCOM_ACCESS_TOKEN": "sandbox-full-access-0001", "INTERCOM_API_URL": sandbox.base_url},
        )  # fmt: skip
    assert run.code == 4
    [result] = [
        p
        for p in json.loads(run.stdout)["connectors"][0]["permissions"]
        if p["data_type"] == "conversations" and p["access"] == "write"
    ]
    assert result["status"] == "inconclusive"
    notes = " ".join(item["note"] or "" for item in result["evidence"])
    assert "route" in notes
    assert result["evidence"][-1]["path"] == "/connector_validator_route_check/0"


def test_the_control_is_sent_once_per_method_and_answered_as_a_route_miss() -> None:
    with served() as sandbox:
        run = run_cli(
            "validate", str(EXAMPLE),
            env={"INTERCOM_ACCESS_TOKEN": "sandbox-full-access-0001", "INTERCOM_API_URL": sandbox.base_url},
        )  # fmt: skip
        entries = [e for e in sandbox.sandbox.log.entries if "connector_validator_route_check" in e.path]
    assert run.code == 0
    assert sorted(e.method for e in entries) == ["POST", "PUT"]
    assert {e.status for e in entries} == {404}
