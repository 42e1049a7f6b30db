"""Least privilege end to end (issue 11): forbidden permissions, excess grants, waivers and drift, with the
CLI as a subprocess against the loopback sandbox. Every run also writes every side report (harness.py),
which is validated against its schema; the date waivers are judged on is pinned (CONNECTOR_VALIDATOR_TODAY).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness import Run, default_config_data, run_cli, served, with_token

pytestmark = pytest.mark.e2e

TODAY = "2026-06-01"
TOKEN = "sandbox-policy-token"
READS = ["Read conversations", "Read tags"]  # what the connector below needs


def spec_text(policy: str = "", permissions: str = "  conversations: [read]\n  tags: [read]\n") -> str:
    return (
        "version: 1\nname: policy-test\nplatform: intercom\n"
        "workspace: {id: abc12xyz, name: Acme Support}\nauth: {mode: access_token}\n"
        f"permissions:\n{permissions}" + (f"policy:\n{policy}" if policy else "")
    )


def validate(
    tmp_path: Path,
    labels: list[str],
    policy: str = "",
    *args: str,
    faults: list[dict[str, Any]] | None = None,
    style: str | None = None,
) -> tuple[Run, dict[str, Any]]:
    spec = tmp_path / "connector.yaml"
    spec.write_text(spec_text(policy), encoding="utf-8")
    data = with_token(default_config_data(), TOKEN, labels)
    if faults:
        data["faults"] = faults
    if style:
        data["workspaces"][0]["missing_permission_style"] = {"default": style}
    with served(data) as world:
        run = run_cli(
            "validate", str(spec), "--format", "json", *args,
            env={"INTERCOM_ACCESS_TOKEN": TOKEN, "INTERCOM_API_URL": world.base_url,
                 "CONNECTOR_VALIDATOR_TODAY": TODAY},
        )  # fmt: skip
    return run, json.loads(run.stdout) if run.stdout.startswith("{") else {}


def entries(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{p['data_type']}:{p['access']}": p for p in report["connectors"][0]["permissions"]}


# The connector reads conversations without tickets: issue 10's warning about it is not this test's subject.
OTHER_NOTICES = {"tickets_hidden_from_conversations"}


def sarif_results(run: Run) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = json.loads(run.reports["sarif"])["runs"][0]["results"]
    others = {code.replace("_", "-") for code in OTHER_NOTICES}
    return [result for result in results if result["ruleId"] not in others]


def notices(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for w in report["connectors"][0]["warnings"] if w["code"] not in OTHER_NOTICES]


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


# --- forbidden ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("forbidden", "label", "strength"),
    [("read", "Read conversations", "proof"), ("write", "Write conversations", "inference")],
    ids=["proof", "inference"],
)
def test_a_forbidden_permission_that_is_granted_fails(
    tmp_path: Path, forbidden: str, label: str, strength: str
) -> None:
    policy = f"  forbidden:\n    conversations: [{forbidden}]\n"
    permissions_needed = [*READS, label] if forbidden == "write" else ["Read tags", label]
    spec_needs = "  tags: [read]\n" if forbidden == "read" else None
    spec = tmp_path / "connector.yaml"
    text = spec_text(policy, spec_needs) if spec_needs else spec_text(policy)
    spec.write_text(text, encoding="utf-8")
    data = with_token(default_config_data(), TOKEN, permissions_needed)
    with served(data) as world:
        run = run_cli(
            "validate", str(spec), "--format", "json",
            env={"INTERCOM_ACCESS_TOKEN": TOKEN, "INTERCOM_API_URL": world.base_url},
        )  # fmt: skip
    report = json.loads(run.stdout)
    entry = entries(report)[f"conversations:{forbidden}"]
    assert run.code == 1 and report["outcome"] == "fail"
    assert (entry["declared"], entry["status"], entry["outcome"]) == ("forbidden", "granted", "fail")
    # (a route-miss control may be listed beside the probes, with no strength of its own)
    assert {e["strength"] for e in entry["evidence"]} - {None} == {strength}
    assert "untick" in entry["remediation"] and label in entry["remediation"]
    assert "regenerate the access token" in entry["remediation"]
    forbidden_line = line_of(text, f"conversations: [{forbidden}]")
    found = [r for r in sarif_results(run) if r["ruleId"] == "permission-forbidden-granted"]
    assert len(found) == 1 and found[0]["level"] == "error"
    assert found[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == forbidden_line
    assert f"::error file={spec},line={forbidden_line}" in run.reports["github"]
    assert "permission-forbidden-granted" in run.reports["junit"]
    assert "untick" in run.reports["markdown"]


@pytest.mark.parametrize("style", ["token_unauthorized", "forbidden"])
def test_a_forbidden_permission_proven_absent_passes(tmp_path: Path, style: str) -> None:
    run, report = validate(tmp_path, READS, "  forbidden:\n    conversations: [write]\n", style=style)
    entry = entries(report)["conversations:write"]
    assert run.code == 0 and report["outcome"] == "pass"
    assert (entry["declared"], entry["status"], entry["outcome"]) == ("forbidden", "missing", "ok")
    assert any(e["strength"] == "proof" for e in entry["evidence"])
    assert entry["remediation"] is None


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 503},
        {"kind": "html"},
        {"kind": "drop"},
    ],
    ids=lambda fault: fault["kind"],
)
def test_a_forbidden_permission_without_a_trustworthy_answer_is_inconclusive_never_ok(
    tmp_path: Path, fault: dict[str, Any]
) -> None:
    # Every request that could prove conversations:write absent goes unanswered (both of its probes).
    faults = [{**fault, "route": route} for route in ("PUT /conversations/{id}", "POST /conversations")]
    policy = "  forbidden:\n    conversations: [write]\n"
    run, report = validate(tmp_path, READS, policy, "--timeout", "0.5", "--retry-budget", "2", faults=faults)
    entry = entries(report)["conversations:write"]
    assert run.code == 4 and report["outcome"] == "inconclusive"
    assert (entry["declared"], entry["outcome"]) == ("forbidden", "inconclusive")


# --- excess ---------------------------------------------------------------------------------------------


def test_excess_warn_passes_with_a_warning_in_every_format(tmp_path: Path) -> None:
    run, report = validate(tmp_path, [*READS, "Write tags"], "  excess: warn\n")
    assert run.code == 0 and report["outcome"] == "pass"
    entry = entries(report)["tags:write"]
    assert (entry["declared"], entry["status"], entry["outcome"]) == ("undeclared", "granted", "warn")
    warnings = notices(report)
    assert [(w["code"], w["permission"]) for w in warnings] == [
        ("excess_permission", {"data_type": "tags", "access": "write"})
    ]
    assert "untick" in warnings[0]["message"] and warnings[0]["labels"] == ["Write tags"]
    # The other undeclared permissions were probed too, and are not excess: not granted.
    undeclared = {key for key, value in entries(report).items() if value["declared"] == "undeclared"}
    assert len(undeclared) >= 10
    assert {entries(report)[key]["outcome"] for key in undeclared - {"tags:write"}} == {"ok"}
    # Every format says it.
    assert "::warning" in run.reports["github"] and "tags:write" in run.reports["github"]
    levels = {r["ruleId"]: r["level"] for r in sarif_results(run)}
    assert levels == {"excess-permission": "warning"}
    permissions_line = line_of(spec_text(), "permissions:")
    result = sarif_results(run)[0]
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == permissions_line
    suite = ET.fromstring(run.reports["junit"]).find("testsuite")
    assert suite is not None and "excess_permission" in (suite.findtext("system-out") or "")
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    assert "excess_permission" in run.reports["markdown"]
    text = run_text(tmp_path, [*READS, "Write tags"])
    assert "excess_permission" in text and "undeclared" in text


def run_text(tmp_path: Path, labels: list[str]) -> str:
    data = with_token(default_config_data(), TOKEN, labels)
    with served(data) as world:
        run = run_cli(
            "validate", str(tmp_path / "connector.yaml"),
            env={"INTERCOM_ACCESS_TOKEN": TOKEN, "INTERCOM_API_URL": world.base_url},
        )  # fmt: skip
    return run.stdout


def test_excess_fail_fails_and_the_command_line_overrides_the_file(tmp_path: Path) -> None:
    run, report = validate(tmp_path, [*READS, "Write tags"], "  excess: fail\n")
    assert run.code == 1 and entries(report)["tags:write"]["outcome"] == "fail"
    assert [r["ruleId"] for r in sarif_results(run)] == ["permission-excess"]
    assert 'untick "Write tags"' in entries(report)["tags:write"]["remediation"]
    run, report = validate(tmp_path, [*READS, "Write tags"], "  excess: warn\n", "--excess", "fail")
    assert run.code == 1 and report["connectors"][0]["excess"] == "fail"
    run, report = validate(tmp_path, [*READS, "Write tags"], "  excess: fail\n", "--excess", "off")
    assert run.code == 0
    assert {entry["declared"] for entry in entries(report).values()} == {"required"}


def test_a_label_a_needed_permission_needs_is_not_excess(tmp_path: Path) -> None:
    labels = [*READS, "Read and list users and companies"]
    spec = tmp_path / "connector.yaml"
    spec.write_text(spec_text("  excess: fail\n", "  people: [read]\n"), encoding="utf-8")
    data = with_token(default_config_data(), TOKEN, labels)
    with served(data) as world:
        run = run_cli(
            "validate", str(spec), "--format", "json",
            env={"INTERCOM_ACCESS_TOKEN": TOKEN, "INTERCOM_API_URL": world.base_url},
        )  # fmt: skip
    report = json.loads(run.stdout)
    found = entries(report)
    # companies:read is granted by the label people:read needs: unticking it would break the connector.
    assert found["companies:read"]["status"] == "granted" and found["companies:read"]["outcome"] == "ok"
    # conversations:read and tags:read are granted by labels nothing declared needs: excess.
    assert found["conversations:read"]["outcome"] == "fail" and run.code == 1


# --- waivers --------------------------------------------------------------------------------------------


def waiver(permission: str, expires: str, reason: str = "being fixed this month") -> str:
    return f"  waivers:\n    - permission: {permission}\n      reason: {reason}\n      expires: {expires}\n"


def test_a_waiver_in_force_turns_a_failure_into_waived(tmp_path: Path) -> None:
    run, report = validate(tmp_path, ["Read conversations"], waiver("tags.read", "2026-09-30"))
    entry = entries(report)["tags:read"]
    assert run.code == 0 and report["outcome"] == "pass"
    assert (entry["status"], entry["outcome"]) == ("missing", "waived")
    assert entry["waiver"]["applied"] is True and entry["waiver"]["reason"] == "being fixed this month"
    suite = ET.fromstring(run.reports["junit"]).find("testsuite")
    assert suite is not None
    case = next(c for c in suite.iter("testcase") if c.get("name") == "tags:read")
    skipped = case.find("skipped")
    assert skipped is not None and "being fixed this month" in (skipped.get("message") or "")
    waived = [r for r in sarif_results(run) if r["ruleId"] == "permission-waived"]
    assert [r["level"] for r in waived] == ["note"]
    waiver_line = line_of(spec_text(waiver("tags.read", "2026-09-30")), "- permission: tags.read")
    assert waived[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == waiver_line
    assert "::notice" in run.reports["github"]
    assert "waived" in run.reports["markdown"]
    assert notices(report) == []  # not expiring within 14 days


def test_an_expired_waiver_fails_naming_it_and_its_date(tmp_path: Path) -> None:
    run, report = validate(tmp_path, ["Read conversations"], waiver("tags.read", "2026-05-31"))
    assert run.code == 1
    failures = report["connectors"][0]["policy_failures"]
    assert [f["code"] for f in failures] == ["waiver_expired"]
    assert "tags:read" in failures[0]["message"] and "2026-05-31" in failures[0]["message"]
    assert entries(report)["tags:read"]["outcome"] == "fail"  # the waiver no longer applies
    waiver_line = line_of(spec_text(waiver("tags.read", "2026-05-31")), "- permission: tags.read")
    found = [r for r in sarif_results(run) if r["ruleId"] == "waiver-expired"]
    assert found[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == waiver_line
    assert "2026-05-31" in run.reports["junit"]


def test_an_expired_waiver_fails_even_when_its_problem_is_gone(tmp_path: Path) -> None:
    run, report = validate(tmp_path, READS, waiver("tags.read", "2026-01-31"))
    assert run.code == 1 and report["connectors"][0]["policy_failures"][0]["code"] == "waiver_expired"


def test_a_waiver_expiring_soon_warns_and_the_window_is_an_option(tmp_path: Path) -> None:
    run, report = validate(tmp_path, ["Read conversations"], waiver("tags.read", "2026-06-10"))
    assert run.code == 0
    warnings = notices(report)
    assert [w["code"] for w in warnings] == ["waiver_expiring"]
    assert "2026-06-10" in warnings[0]["message"] and "in 9 days" in warnings[0]["message"]
    run, report = validate(
        tmp_path, ["Read conversations"], waiver("tags.read", "2026-06-10"), "--expiry-warning", "5"
    )
    assert run.code == 0 and notices(report) == []


def test_a_waiver_no_longer_needed_gives_a_note(tmp_path: Path) -> None:
    run, report = validate(tmp_path, READS, waiver("tags.read", "2026-09-30"))
    assert run.code == 0
    notes = notices(report)
    assert [(n["code"], n["level"]) for n in notes] == [("waiver_unneeded", "note")]
    assert entries(report)["tags:read"]["outcome"] == "ok"
    assert "remove it" in notes[0]["message"]


# --- drift ----------------------------------------------------------------------------------------------


def test_a_baseline_shows_the_label_the_token_gained_as_a_warning_whatever_excess_says(
    tmp_path: Path,
) -> None:
    # A report records every permission's verdict when everything was probed (excess warn or fail, or a run
    # with --baseline); one of only the declared permissions cannot show an undeclared gain.
    first, earlier = validate(tmp_path, READS, "", "--excess", "warn")
    assert first.code == 0
    unprobed = tmp_path / "declared-only.json"
    unprobed.write_text(validate(tmp_path, READS)[0].stdout, encoding="utf-8")
    _, partial = validate(tmp_path, [*READS, "Write tags"], "", "--baseline", str(unprobed))
    assert partial["connectors"][0]["drift"]["gained"] == []
    assert "baseline_incomplete" in [w["code"] for w in notices(partial)]
    baseline = tmp_path / "baseline.json"
    baseline.write_text(first.stdout, encoding="utf-8")
    run, report = validate(tmp_path, [*READS, "Write tags"], "", "--baseline", str(baseline))
    connector = report["connectors"][0]
    assert run.code == 0  # excess is off: a warning, not a failure
    assert connector["drift"]["gained"] == [{"data_type": "tags", "access": "write"}]
    assert connector["drift"]["lost"] == []
    assert entries(report)["tags:write"]["outcome"] == "warn"
    assert [w["code"] for w in notices(report)] == ["permission_gained"]
    assert "::warning" in run.reports["github"] and "gained" in run.reports["markdown"]
    # The report holds every permission's verdict, so the next run compares them all.
    assert len(connector["permissions"]) == len(earlier["connectors"][0]["permissions"])
    later = tmp_path / "later.json"
    later.write_text(run.stdout, encoding="utf-8")
    run, report = validate(tmp_path, READS, "", "--baseline", str(later))
    assert report["connectors"][0]["drift"]["lost"] == [{"data_type": "tags", "access": "write"}]
    assert [w["code"] for w in notices(report)] == ["permission_lost"]


@pytest.mark.parametrize(
    "content", ["not json", '{"format_version": 2, "connectors": []}', "[1, 2]", None], ids=str
)
def test_an_unusable_baseline_is_one_line_and_exit_7(tmp_path: Path, content: str | None) -> None:
    baseline = tmp_path / "baseline.json"
    if content is not None:
        baseline.write_text(content, encoding="utf-8")
    run, _ = validate(tmp_path, READS, "", "--baseline", str(baseline))
    assert run.code == 7, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "--baseline" in run.stderr
    assert run.stdout == ""


# --- init --compare -------------------------------------------------------------------------------------


def test_init_compare_names_the_excess_permissions_of_an_existing_file_and_writes_nothing(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "connector.yaml"
    text = spec_text("  forbidden:\n    conversations: [write]\n")
    spec.write_text(text, encoding="utf-8")
    labels = [*READS, "Write tags", "Write conversations"]
    data = with_token(default_config_data(), TOKEN, labels)
    with served(data) as world:
        run = run_cli(
            "init", "--compare", str(spec), "--api-url", world.base_url,
            env={"INTERCOM_ACCESS_TOKEN": TOKEN},
        )  # fmt: skip
    assert run.code == 0, run.stderr
    assert 'Excess (granted, not declared): tags:write ("Write tags").' in run.stdout
    assert 'untick "Write tags"' in run.stdout
    assert "Forbidden but granted: conversations:write" in run.stdout
    assert spec.read_text(encoding="utf-8") == text
