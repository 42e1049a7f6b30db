"""The CI report formats (JUnit, SARIF, GitHub annotations, Markdown): what CI shows for each finding."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema

from validator import run
from validator.formats import Format, github, junit, markdown, render, sarif, step_summary
from validator.lint import FileResult, LintResult
from validator.model import (
    Access,
    AuthMode,
    DataType,
    Permission,
    Position,
    Region,
    Strength,
    TokenStatus,
    Verdict,
    WorkspaceStatus,
)
from validator.report import (
    ConnectorResult,
    Evidence,
    PermissionResult,
    Report,
    TokenCheck,
    WorkspaceCheck,
    WorkspaceIdentity,
)
from validator.run import ValidateRequest
from validator.spec import SpecProblem
from validator.tokens import FRAGMENT_LENGTH

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "tests" / "data" / "schemas"
PINNED = datetime(2026, 3, 1, 12, 30, 45, tzinfo=UTC)
TOKEN_ENV = "INTERCOM_ACCESS_TOKEN"
TICK = "In Developer Hub → your app → Configure → Authentication, tick {labels}; then regenerate the token."

WORKSPACE = WorkspaceIdentity("abc12xyz", "Acme Support", Region.US)
OTHER_WORKSPACE = WorkspaceIdentity("zzz99", "Other Co", Region.EU)
ME_OK = Evidence("GET", "/me", 200, strength=Strength.PROOF, note="the token is valid")


# --- building reports ----------------------------------------------------------------------------------


def permission(
    data_type: DataType,
    access: Access,
    verdict: Verdict,
    position: Position,
    *,
    labels: tuple[str, ...] = (),
    evidence: tuple[Evidence, ...] = (),
    elapsed: float | None = None,
) -> PermissionResult:
    remediation = None
    if verdict is Verdict.MISSING:
        remediation = TICK.format(labels=", ".join(f'"{label}"' for label in labels))
    elif verdict is not Verdict.GRANTED:
        remediation = f"what to do when {verdict}"
    return PermissionResult(
        Permission(data_type, access), verdict, evidence, labels, remediation, position, elapsed=elapsed
    )


def checked(
    path: str,
    permissions: tuple[PermissionResult, ...],
    *,
    workspace: WorkspaceCheck | None = None,
    name: str | None = "helpdesk-migration",
) -> ConnectorResult:
    return ConnectorResult(
        path=path,
        name=name,
        auth_mode=AuthMode.OAUTH,
        token=TokenCheck(TokenStatus.VALID, env=TOKEN_ENV, evidence=(ME_OK,), elapsed=0.0214),
        workspace=workspace
        or WorkspaceCheck(WorkspaceStatus.MATCH, WORKSPACE, WORKSPACE, position=Position(8, 1)),
        permissions=permissions,
        auth_position=Position(12, 3),
        api_version="2.15",
        elapsed=0.2505,  # measured: reading the file to the last answer (JUnit's suite time)
    )


GRANTED = permission(
    DataType.PEOPLE,
    Access.READ,
    Verdict.GRANTED,
    Position(18, 12),
    labels=("Read and list users and companies",),
    evidence=(Evidence("GET", "/contacts", 200, request_id="req-1", strength=Strength.PROOF),),
    elapsed=0.0412,
)
MISSING = permission(
    DataType.TAGS,
    Access.WRITE,
    Verdict.MISSING,
    Position(22, 15),
    labels=("Write tags",),
    evidence=(
        Evidence(
            "POST",
            "/tags",
            401,
            "token_unauthorized",
            "req-2",
            Strength.PROOF,
            "Intercom: not authorized to access resource (permission not granted)",
        ),
    ),
    elapsed=0.0387,
)
PLAN_RESTRICTED = permission(
    DataType.CONVERSATIONS,
    Access.WRITE,
    Verdict.PLAN_RESTRICTED,
    Position(20, 22),
    labels=("Write conversations",),
    evidence=(
        Evidence("POST", "/conversations/x/reply", 403, "api_plan_restricted", strength=Strength.PROOF),
    ),
    elapsed=0.0004,  # shown as 0.001: measured, so never 0
)
INCONCLUSIVE = permission(
    DataType.COMPANIES,
    Access.READ,
    Verdict.INCONCLUSIVE,
    Position(19, 16),
    labels=("Read and list users and companies",),
    evidence=(Evidence("POST", "/companies/list", None, note="timed out after 3 attempts"),),
    elapsed=45.0,
)
UNVERIFIABLE = permission(
    DataType.DATA_ATTRIBUTES,
    Access.WRITE,
    Verdict.UNVERIFIABLE,
    Position(24, 25),
    labels=("Write data attributes",),
)

EVERY_VERDICT = checked(
    "connectors/helpdesk.yaml", (GRANTED, MISSING, PLAN_RESTRICTED, INCONCLUSIVE, UNVERIFIABLE)
)
TOKEN_REJECTED = ConnectorResult(
    path="connectors/rejected.yaml",
    name="rejected",
    auth_mode=AuthMode.ACCESS_TOKEN,
    token=TokenCheck(
        TokenStatus.REJECTED,
        "unauthorized",
        TOKEN_ENV,
        (Evidence("GET", "/me", 401, "unauthorized", "req-9"),),
        elapsed=0.0153,
    ),
    workspace=None,
    auth_position=Position(11, 3),
    not_checked=(Permission(DataType.PEOPLE, Access.READ), Permission(DataType.TAGS, Access.WRITE)),
    elapsed=0.0301,
)
WORKSPACE_MISMATCH = checked(
    "connectors/other-workspace.yaml",
    (GRANTED,),
    workspace=WorkspaceCheck(
        WorkspaceStatus.MISMATCH, WORKSPACE, OTHER_WORKSPACE, ("id", "region", "name"), Position(9, 7)
    ),
)
# Issue 10 item 3: a valid token that may not read /me; advised as `validator.advice` does.
WORKSPACE_UNVERIFIED = checked(
    "connectors/no-read-admins.yaml",
    (GRANTED,),
    workspace=WorkspaceCheck(
        WorkspaceStatus.UNVERIFIED,
        WORKSPACE,
        position=Position(8, 1),
        labels=("Read admins",),
        remediation=(
            'In Developer Hub → your app → Configure → Authentication, tick "Read admins" so that GET /me '
            "can name the workspace; then a workspace admin must authorize the app again."
        ),
    ),
)
WORKSPACE_UNVERIFIED = replace(
    WORKSPACE_UNVERIFIED,
    token=TokenCheck(
        TokenStatus.VALID,
        "token_unauthorized",
        TOKEN_ENV,
        (
            Evidence(
                "GET",
                "/me",
                401,
                "token_unauthorized",
                "req-10",
                Strength.INFERENCE,
                'the token is valid, but may not read its own identity (token_unauthorized): without "Read '
                'admins" the workspace cannot be verified',
            ),
        ),
    ),
)
TOKEN_MISSING = ConnectorResult(
    path="connectors/no-token.yaml",
    name="no-token",
    auth_mode=AuthMode.OAUTH,
    token=TokenCheck(
        TokenStatus.MISSING, env=TOKEN_ENV, message=f"the environment variable {TOKEN_ENV} is not set"
    ),
    workspace=None,
    auth_position=Position(14, 14),
    not_checked=(Permission(DataType.CONVERSATIONS, Access.READ),),
    elapsed=0.0021,
)
CONNECTOR_ERROR = ConnectorResult(
    path="connectors/broken.yaml",
    name=None,
    auth_mode=None,
    token=TokenCheck(TokenStatus.UNKNOWN),
    workspace=None,
    error="connectors/broken.yaml:3:10: 'read' is not one of ['oauth', 'access_token'] ($.auth.mode)",
    error_position=Position(3, 10),
    problems=(
        SpecProblem(
            "connectors/broken.yaml", 3, 10, "'read' is not one of ['oauth', 'access_token']", "$.auth.mode"
        ),
    ),
)

CONNECTOR_UNREADABLE = ConnectorResult(
    path="connectors/gone.yaml",
    name=None,
    auth_mode=None,
    token=TokenCheck(TokenStatus.UNKNOWN),
    workspace=None,
    error="connectors/gone.yaml: cannot read: no such file",
)
INVALID_PROBLEMS = (
    SpecProblem(
        "connectors/invalid.yaml",
        4,
        11,
        "'EU' is not a valid workspace.region; did you mean 'eu'?",
        "$.workspace.region",
    ),
    SpecProblem(
        "connectors/invalid.yaml",
        9,
        3,
        "unknown data type 'tag' in permissions; did you mean 'tags'?",
        "$.permissions.tag",
    ),
)
CONNECTOR_INVALID = ConnectorResult(
    path="connectors/invalid.yaml",
    name=None,
    auth_mode=None,
    token=TokenCheck(TokenStatus.UNKNOWN),
    workspace=None,
    error=INVALID_PROBLEMS[0].format(),
    error_position=INVALID_PROBLEMS[0].position,
    problems=INVALID_PROBLEMS,
    elapsed=0.0042,
)

REPORT = Report(
    "9.9.9",
    (
        EVERY_VERDICT,
        TOKEN_REJECTED,
        WORKSPACE_MISMATCH,
        WORKSPACE_UNVERIFIED,
        TOKEN_MISSING,
        CONNECTOR_ERROR,
        CONNECTOR_INVALID,
        CONNECTOR_UNREADABLE,
    ),
)


def report_of(*connectors: ConnectorResult) -> Report:
    return Report("9.9.9", connectors)


LINT_PROBLEMS = (
    SpecProblem("connectors/a.yaml", 4, 7, "'eu2' is not one of ['us', 'eu', 'au']", "$.workspace.region"),
    SpecProblem("connectors/a.yaml", 17, 3, "'posts' is not a data type", "$.permissions.posts"),
)
LINTED = LintResult((FileResult("connectors/a.yaml", LINT_PROBLEMS), FileResult("connectors/b.yaml")))


# --- JUnit ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / "junit.xsd"))


def junit_of(report: Report) -> str:
    return junit.render(report, timestamp=PINNED, hostname="ci-runner-7")


def suites_of(xml: str) -> dict[str, ET.Element]:
    return {suite.get("name", ""): suite for suite in ET.fromstring(xml).iter("testsuite")}


def cases_of(suite: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in suite.iter("testcase")}


def outcome_of(case: ET.Element) -> str:
    children = list(case)
    assert len(children) <= 1, "Ant's schema allows one of skipped/error/failure"
    return children[0].tag if children else "passed"


def test_junit_validates_against_ants_schema(junit_schema: xmlschema.XMLSchema) -> None:
    junit_schema.validate(junit_of(REPORT))


def test_junit_default_timestamp_and_hostname_also_validate(junit_schema: xmlschema.XMLSchema) -> None:
    junit_schema.validate(junit.render(REPORT))


def test_junit_has_a_suite_per_connector_file_named_by_its_path() -> None:
    root = ET.fromstring(junit_of(REPORT))
    assert root.tag == "testsuites"
    assert [suite.get("name") for suite in root] == [connector.path for connector in REPORT.connectors]
    assert [suite.get("id") for suite in root] == ["0", "1", "2", "3", "4", "5", "6", "7"]


def test_junit_has_token_workspace_and_one_testcase_per_declared_permission() -> None:
    suite = suites_of(junit_of(REPORT))["connectors/helpdesk.yaml"]
    cases = [case.get("name") for case in suite.iter("testcase")]
    assert cases == [
        "token",
        "workspace",
        "people:read",
        "tags:write",
        "conversations:write",
        "companies:read",
        "data_attributes:write",
    ]
    assert {case.get("classname") for case in suite.iter("testcase")} == {"helpdesk-migration"}


def test_junit_outcome_of_each_verdict() -> None:
    cases = cases_of(suites_of(junit_of(REPORT))["connectors/helpdesk.yaml"])
    assert {name: outcome_of(case) for name, case in cases.items()} == {
        "token": "passed",
        "workspace": "passed",
        "people:read": "passed",
        "tags:write": "failure",
        "conversations:write": "failure",
        # Undecided checks must not look passed or harmlessly skipped to CI.
        "companies:read": "error",
        "data_attributes:write": "error",
    }
    assert cases["tags:write"][0].get("type") == "permission-missing"
    assert cases["conversations:write"][0].get("type") == "permission-plan-restricted"
    assert cases["companies:read"][0].get("type") == "permission-inconclusive"
    assert cases["data_attributes:write"][0].get("type") == "permission-unverifiable"


def test_junit_failure_carries_verdict_evidence_labels_and_remediation() -> None:
    failure = cases_of(suites_of(junit_of(REPORT))["connectors/helpdesk.yaml"])["tags:write"][0]
    assert failure.get("message") == "tags:write is missing: Intercom refused the request that needs it."
    text = failure.text or ""
    assert "Verdict: missing" in text
    assert MISSING.evidence[0].describe() in text
    assert '"Write tags"' in text
    assert MISSING.remediation is not None and MISSING.remediation in text


def test_junit_counts_match_the_testcases() -> None:
    for suite in ET.fromstring(junit_of(REPORT)):
        outcomes = [outcome_of(case) for case in suite.iter("testcase")]
        assert suite.get("tests") == str(len(outcomes))
        assert suite.get("failures") == str(outcomes.count("failure"))
        assert suite.get("errors") == str(outcomes.count("error"))
        assert suite.get("skipped") == str(outcomes.count("skipped"))
    every_verdict = suites_of(junit_of(REPORT))["connectors/helpdesk.yaml"]
    assert (every_verdict.get("tests"), every_verdict.get("failures"), every_verdict.get("errors")) == (
        "7",
        "2",
        "2",
    )


def test_junit_rejected_token_fails_and_the_workspace_and_declared_permissions_are_skipped() -> None:
    suite = suites_of(junit_of(REPORT))["connectors/rejected.yaml"]
    cases = cases_of(suite)
    assert {name: outcome_of(case) for name, case in cases.items()} == {
        "token": "failure",
        "workspace": "skipped",
        "people:read": "skipped",
        "tags:write": "skipped",
    }
    assert cases["tags:write"][0].get("message") == "not checked: Intercom rejected the token"
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "1", "3")
    failure = cases["token"][0]
    assert failure.get("type") == "token-rejected"
    assert "GET /me → 401 unauthorized" in (failure.text or "")


def test_junit_workspace_mismatch_is_a_failure_naming_both_workspaces() -> None:
    failure = cases_of(suites_of(junit_of(REPORT))["connectors/other-workspace.yaml"])["workspace"][0]
    assert failure.tag == "failure"
    assert failure.get("type") == "workspace-mismatch"
    assert 'zzz99 "Other Co" (eu)' in (failure.get("message") or "")
    assert 'abc12xyz "Acme Support" (us)' in (failure.get("message") or "")


def test_junit_unverified_workspace_is_a_failure_saying_which_label_to_tick() -> None:
    suite = suites_of(junit_of(REPORT))["connectors/no-read-admins.yaml"]
    cases = cases_of(suite)
    failure = cases["workspace"][0]
    assert failure.tag == "failure"
    assert failure.get("type") == "workspace-unverified"
    assert 'tick "Read admins"' in (failure.text or "")
    assert len(cases["token"]) == 0  # the token is valid: its case passes
    assert suite.get("failures") == "1"


@pytest.mark.parametrize(
    ("path", "name", "error_type", "classname"),
    [
        ("connectors/no-token.yaml", "token", "token-missing", "no-token"),
        ("connectors/gone.yaml", "connector.yaml", "connector-invalid", "connectors/gone.yaml"),
        ("connectors/broken.yaml", "$.auth.mode", "connector-invalid", "connectors/broken.yaml"),
    ],
)
def test_junit_stopped_connector_is_one_error_testcase(
    path: str, name: str, error_type: str, classname: str
) -> None:
    suite = suites_of(junit_of(REPORT))[path]
    [case] = [case for case in suite.iter("testcase") if outcome_of(case) != "skipped"]
    assert (case.get("name"), case.get("classname"), outcome_of(case)) == (name, classname, "error")
    assert case[0].get("type") == error_type
    assert (suite.get("errors"), suite.get("failures")) == ("1", "0")


def test_junit_invalid_connector_has_an_error_testcase_per_problem_named_by_its_json_path() -> None:
    suite = suites_of(junit_of(REPORT))["connectors/invalid.yaml"]
    cases = list(suite.iter("testcase"))
    assert [(case.get("name"), outcome_of(case)) for case in cases] == [
        ("$.workspace.region", "error"),
        ("$.permissions.tag", "error"),
    ]
    # The message is the problem's, without `path:line:col:` in front: the suite names the file.
    assert (
        cases[1][0].get("message")
        == "unknown data type 'tag' in permissions; did you mean 'tags'? ($.permissions.tag)"
    )
    assert (suite.get("tests"), suite.get("errors")) == ("2", "2")


def test_junit_timestamp_hostname_and_time_attributes() -> None:
    suite = ET.fromstring(junit.render(REPORT, timestamp=PINNED, hostname="ci-runner-7"))[0]
    assert suite.get("timestamp") == "2026-03-01T12:30:45"
    assert suite.get("hostname") == "ci-runner-7"
    # Measured durations: the suite's is the connector's, each permission's its probes', to the millisecond.
    assert suite.get("time") == "0.251"
    assert {case.get("name"): case.get("time") for case in suite.iter("testcase")} == {
        "token": "0.021",
        "workspace": "0",  # read from the answer to /me: nothing sent of its own
        "people:read": "0.041",
        "tags:write": "0.039",
        "conversations:write": "0.001",  # 0.4 ms: measured, so never shown as 0
        "companies:read": "45.000",
        "data_attributes:write": "0",  # unverifiable: no request was sent
    }


def test_junit_missing_token_lists_the_declared_permissions_as_skipped() -> None:
    suite = suites_of(junit_of(REPORT))["connectors/no-token.yaml"]
    assert [(case.get("name"), outcome_of(case), case.get("time")) for case in suite.iter("testcase")] == [
        ("token", "error", "0.002"),
        ("conversations:read", "skipped", "0"),
    ]


def test_junit_timestamp_is_written_in_utc() -> None:
    tokyo = datetime.fromisoformat("2026-03-01T21:30:45+09:00")
    assert ET.fromstring(junit.render(REPORT, timestamp=tokyo))[0].get("timestamp") == "2026-03-01T12:30:45"


def test_junit_lint_has_a_failure_per_problem_and_a_passed_case_per_clean_file(
    junit_schema: xmlschema.XMLSchema,
) -> None:
    xml = junit.render_lint(LINTED, timestamp=PINNED, hostname="ci")
    junit_schema.validate(xml)
    suites = suites_of(xml)
    problems = cases_of(suites["connectors/a.yaml"])
    assert {name: outcome_of(case) for name, case in problems.items()} == {
        "$.workspace.region": "failure",
        "$.permissions.posts": "failure",
    }
    assert (problems["$.workspace.region"][0].text or "").startswith(
        "connectors/a.yaml:4:7: 'eu2' is not one of"
    )
    assert {name: outcome_of(case) for name, case in cases_of(suites["connectors/b.yaml"]).items()} == {
        "schema": "passed"
    }


# --- SARIF ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def sarif_results(report: Report) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = json.loads(sarif.render(report))["runs"][0]["results"]
    return results


def region_of(result: dict[str, Any]) -> Position:
    region = result["locations"][0]["physicalLocation"]["region"]
    return Position(region["startLine"], region["startColumn"])


def test_sarif_validates_against_the_sarif_2_1_0_schema(sarif_validator: jsonschema.Draft4Validator) -> None:
    errors = [error.message for error in sarif_validator.iter_errors(json.loads(sarif.render(REPORT)))]
    assert errors == []


def test_sarif_header_and_tool() -> None:
    log = json.loads(sarif.render(REPORT))
    assert (log["$schema"], log["version"]) == ("https://json.schemastore.org/sarif-2.1.0.json", "2.1.0")
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("connector-validator", "9.9.9")
    assert driver["fullName"] == "connector-validator 9.9.9"
    assert driver["informationUri"].startswith("https://")
    rule_ids = [rule["id"] for rule in driver["rules"]]
    for expected in (
        "permission-missing",
        "permission-plan-restricted",
        "permission-inconclusive",
        "permission-unverifiable",
        "workspace-mismatch",
        "workspace-unverified",
        "token-rejected",
        "token-missing",
        "connector-invalid",
    ):
        assert expected in rule_ids
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["help"]["markdown"]
    assert all(driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"] for result in run["results"])


def test_sarif_has_one_result_per_check_that_did_not_pass_with_its_level() -> None:
    assert [(result["ruleId"], result["level"]) for result in sarif_results(REPORT)] == [
        ("permission-missing", "error"),
        ("permission-plan-restricted", "error"),
        ("permission-inconclusive", "warning"),
        ("permission-unverifiable", "warning"),
        ("token-rejected", "error"),
        ("workspace-mismatch", "error"),
        ("workspace-unverified", "error"),
        ("token-missing", "error"),
        ("connector-invalid", "error"),
        ("connector-invalid", "error"),  # one result per problem of connectors/invalid.yaml
        ("connector-invalid", "error"),
        ("connector-invalid", "error"),  # connectors/gone.yaml, unreadable
    ]


def test_sarif_results_point_at_the_declaring_line_and_column() -> None:
    regions = [(result["ruleId"], region_of(result)) for result in sarif_results(REPORT)]
    assert regions == [
        ("permission-missing", MISSING.position),
        ("permission-plan-restricted", PLAN_RESTRICTED.position),
        ("permission-inconclusive", INCONCLUSIVE.position),
        ("permission-unverifiable", UNVERIFIABLE.position),
        ("token-rejected", TOKEN_REJECTED.auth_position),
        ("workspace-mismatch", Position(9, 7)),
        ("workspace-unverified", Position(8, 1)),  # the workspace line (issue 10 item 3)
        ("token-missing", TOKEN_MISSING.auth_position),
        ("connector-invalid", CONNECTOR_ERROR.error_position),
        ("connector-invalid", INVALID_PROBLEMS[0].position),
        ("connector-invalid", INVALID_PROBLEMS[1].position),
        ("connector-invalid", Position(1, 1)),  # an unreadable file still has a region: its start
    ]


def test_sarif_artifact_is_relative_to_the_source_root_with_forward_slashes() -> None:
    windows = replace(EVERY_VERDICT, path=".\\connectors\\help desk.yaml")
    [location] = sarif_results(report_of(windows))[0]["locations"]
    assert location["physicalLocation"]["artifactLocation"] == {
        "uri": "connectors/help%20desk.yaml",
        "uriBaseId": "%SRCROOT%",
    }


def test_sarif_relative_uri_is_percent_encoded_so_a_colon_is_no_drive_or_scheme() -> None:
    colon = replace(EVERY_VERDICT, path="a:b.yaml")
    [location] = sarif_results(report_of(colon))[0]["locations"]
    assert location["physicalLocation"]["artifactLocation"] == {"uri": "a%3Ab.yaml", "uriBaseId": "%SRCROOT%"}
    drive = replace(EVERY_VERDICT, path="C:\\work\\connector.yaml")
    [location] = sarif_results(report_of(drive))[0]["locations"]
    assert location["physicalLocation"]["artifactLocation"] == {"uri": "file:///C:/work/connector.yaml"}


def test_sarif_automation_id_is_stable_per_connector_set_and_distinct_between_sets() -> None:
    def automation(report: Report) -> str:
        found: str = json.loads(sarif.render(report))["runs"][0]["automationDetails"]["id"]
        return found

    one = automation(report_of(EVERY_VERDICT, TOKEN_MISSING))
    assert one.startswith("connector-validator/validate/") and one.endswith("/")
    # The same files, in another order and spelt with ./: the same category, so a rerun replaces the last.
    assert (
        automation(report_of(TOKEN_MISSING, replace(EVERY_VERDICT, path="./connectors/helpdesk.yaml"))) == one
    )
    assert automation(report_of(EVERY_VERDICT)) != one
    assert automation(report_of(TOKEN_MISSING)) != automation(report_of(EVERY_VERDICT))
    # Stable across processes: the stored expected output has the same id.
    stored = json.loads((EXPECTED / "every-finding.sarif").read_text(encoding="utf-8"))
    assert stored["runs"][0]["automationDetails"]["id"] == automation(REPORT)
    lint_id = json.loads(sarif.render_lint(LINTED))["runs"][0]["automationDetails"]["id"]
    assert lint_id.startswith("connector-validator/lint/")


def test_sarif_message_names_the_developer_hub_permission() -> None:
    message = sarif_results(report_of(EVERY_VERDICT))[0]["message"]["text"]
    assert message.startswith("tags:write is missing")
    assert 'Developer Hub permission: "Write tags"' in message


def test_sarif_fingerprints_are_stable_across_runs_and_line_moves_but_distinct_per_finding() -> None:
    def fingerprints(report: Report) -> list[str]:
        return [
            result["partialFingerprints"]["connectorValidatorFinding/v1"] for result in sarif_results(report)
        ]

    first = fingerprints(REPORT)
    # Across runs: the same as in the stored expected output (rendering twice in one process would hide a
    # fingerprint that depends on the process, such as Python's salted hash()).
    stored = json.loads((EXPECTED / "every-finding.sarif").read_text(encoding="utf-8"))["runs"][0]["results"]
    assert first == [result["partialFingerprints"]["connectorValidatorFinding/v1"] for result in stored]
    assert len(set(first)) == len(first)
    moved = replace(MISSING, position=Position(40, 3), evidence=())
    assert fingerprints(report_of(checked("connectors/helpdesk.yaml", (moved,))))[0] == first[0]
    elsewhere = checked("connectors/other.yaml", (MISSING,))
    assert fingerprints(report_of(elsewhere))[0] != first[0]


def test_sarif_of_a_passing_report_has_no_results(sarif_validator: jsonschema.Draft4Validator) -> None:
    log = json.loads(sarif.render(report_of(checked("connector.yaml", (GRANTED,)))))
    sarif_validator.validate(log)
    assert log["runs"][0]["results"] == []


def test_sarif_lint_results_point_at_each_problem(sarif_validator: jsonschema.Draft4Validator) -> None:
    log = json.loads(sarif.render_lint(LINTED))
    sarif_validator.validate(log)
    results = log["runs"][0]["results"]
    assert [(result["ruleId"], region_of(result)) for result in results] == [
        ("connector-invalid", Position(4, 7)),
        ("connector-invalid", Position(17, 3)),
    ]
    assert results[0]["message"]["text"] == "'eu2' is not one of ['us', 'eu', 'au'] ($.workspace.region)"


# --- GitHub annotations --------------------------------------------------------------------------------


def test_github_annotations_with_file_line_col_and_level() -> None:
    lines = github.render(report_of(EVERY_VERDICT)).splitlines()
    assert [line.split(",title=")[0] for line in lines] == [
        "::error file=connectors/helpdesk.yaml,line=22,col=15",
        "::error file=connectors/helpdesk.yaml,line=20,col=22",
        "::warning file=connectors/helpdesk.yaml,line=19,col=16",
        "::warning file=connectors/helpdesk.yaml,line=24,col=25",
    ]


def test_github_annotation_title_and_escaped_multiline_message() -> None:
    first = github.render(report_of(EVERY_VERDICT)).splitlines()[0]
    assert ",title=Permission missing%3A tags%3Awrite::tags:write is missing" in first
    assert "%0AVerdict: missing%0A" in first
    assert '%0ADeveloper Hub permission: "Write tags"%0A' in first


def test_github_annotations_for_stopped_and_rejected_connectors() -> None:
    output = github.render(report_of(TOKEN_REJECTED, TOKEN_MISSING, CONNECTOR_ERROR))
    assert [line.split(",title=")[0] for line in output.splitlines()] == [
        "::error file=connectors/rejected.yaml,line=11,col=3",
        "::error file=connectors/no-token.yaml,line=14,col=14",
        "::error file=connectors/broken.yaml,line=3,col=10",
    ]


def test_github_caps_errors_at_ten_and_says_how_many_more() -> None:
    failures = tuple(
        permission(DataType.PEOPLE, Access.WRITE, Verdict.MISSING, Position(line, 5), labels=("Write users",))
        for line in range(1, 26)
    )
    lines = github.render(report_of(checked("c.yaml", (*failures, INCONCLUSIVE)))).splitlines()
    assert sum(line.startswith("::error ") for line in lines) == 10
    assert sum(line.startswith("::warning ") for line in lines) == 1
    assert lines[-1] == "connector-validator: 15 more errors not shown as annotations; see the report"


def test_github_caps_errors_and_warnings_separately() -> None:
    failures = tuple(replace(MISSING, position=Position(line, 1)) for line in range(13))
    undecided = tuple(replace(INCONCLUSIVE, position=Position(line, 1)) for line in range(11))
    lines = github.render(report_of(checked("c.yaml", failures + undecided))).splitlines()
    assert (
        lines[-1]
        == "connector-validator: 3 more errors and 1 more warning not shown as annotations; see the report"
    )
    assert len(lines) == 21


def test_github_no_annotation_and_no_closing_line_when_everything_passed() -> None:
    assert github.render(report_of(checked("c.yaml", (GRANTED,)))) == ""


def test_github_escaping_of_messages_and_properties() -> None:
    assert github.escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert github.escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"
    odd = replace(
        CONNECTOR_UNREADABLE,
        path="dir,x/a:b.yaml",
        error="50% wrong\nsee line 3",
        error_position=Position(3, 10),
    )
    assert github.render(report_of(odd)) == (
        "::error file=dir%2Cx/a%3Ab.yaml,line=3,col=10,title=connector.yaml invalid"
        "::50%25 wrong%0Asee line 3\n"
    )


def test_github_lint_annotations() -> None:
    assert github.render_lint(LINTED).splitlines() == [
        "::error file=connectors/a.yaml,line=4,col=7,title=connector.yaml invalid"
        "::'eu2' is not one of ['us', 'eu', 'au'] ($.workspace.region)",
        "::error file=connectors/a.yaml,line=17,col=3,title=connector.yaml invalid"
        "::'posts' is not a data type ($.permissions.posts)",
    ]


def test_github_step_summary_is_the_markdown_report() -> None:
    assert step_summary(REPORT) == markdown.render(REPORT)


# --- Markdown ------------------------------------------------------------------------------------------


def test_markdown_outcome_line_and_a_section_per_connector() -> None:
    text = markdown.render(REPORT)
    assert text.startswith("## connector-validator: ERROR\n")
    for connector in REPORT.connectors:
        assert f"### `{connector.path}`" in text


def test_markdown_table_of_permissions() -> None:
    text = markdown.render(report_of(EVERY_VERDICT))
    assert "| Data type | Access | Verdict | Evidence |" in text
    assert (
        "| tags | write | **missing** | POST /tags → 401 token\\_unauthorized \\(proof\\) \\[request req-2\\]"
        in text
    )
    assert (
        "| companies | read | inconclusive | POST /companies/list → no answer: timed out after 3 attempts |"
        in text
    )
    assert "| data\\_attributes | write | unverifiable | - |" in text


def test_markdown_checklist_of_developer_hub_permissions_with_remediation() -> None:
    text = markdown.render(report_of(EVERY_VERDICT))
    assert '- [ ] "Write tags" (for `tags:write`)' in text
    assert MISSING.remediation is not None and MISSING.remediation in text
    assert '"Write conversations"' not in text.split("Restricted by")[0], (
        "plan-restricted is not fixed by a tick"
    )


def test_markdown_checklist_uses_where_and_after_change_when_the_report_has_them() -> None:
    connector = replace(
        EVERY_VERDICT,
        where_to_fix="Developer Hub → your app → Authentication",
        after_change="authorize again",
    )
    text = markdown.render(report_of(connector))
    assert "**To fix**, in Developer Hub → your app → Authentication, tick:" in text
    assert "Then authorize again." in text


def test_markdown_escapes_pipes_in_table_cells() -> None:
    piped = replace(GRANTED, evidence=(Evidence("GET", "/contacts?q=a|b", 200, note="x | y"),))
    row = next(
        line
        for line in markdown.render(report_of(checked("c.yaml", (piped,)))).splitlines()
        if "/contacts" in line
    )
    assert row == "| people | read | granted | GET /contacts?q=a\\|b → 200: x \\| y |"


def test_markdown_workspace_line() -> None:
    text = markdown.render(report_of(WORKSPACE_MISMATCH))
    assert (
        '**Workspace:** **mismatch** in id, region, name: declared abc12xyz "Acme Support" \\(us\\)' in text
    )


# --- every format --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(Format))
def test_every_format_renders_the_report(fmt: Format) -> None:
    # Goes through the registry, so a Format member without a module fails here.
    output = render(fmt, REPORT)
    assert "connectors/helpdesk.yaml" in output


# --- expected output, stored: the same report renders byte for byte the same, run after run -------------
#
# tests/data/expected/<case>.<format> holds what each format renders for a few representative reports (and
# lint results). A change to a format shows up here as a diff to review; after reviewing it, rewrite the
# files with `UPDATE_EXPECTED=1 .venv/bin/python -m pytest -q tests/unit/test_formats.py -k expected`.

EXPECTED = Path(__file__).resolve().parents[1] / "data" / "expected"
UPDATE_EXPECTED = os.environ.get("UPDATE_EXPECTED") == "1"
PASSING = report_of(checked("connector.yaml", (GRANTED,)))
REPORT_CASES = {"every-finding": REPORT, "passing": PASSING}


def rendered(fmt: Format, report: Report) -> str:
    # JUnit's timestamp and hostname are the clock's and the machine's unless pinned.
    return junit_of(report) if fmt is Format.JUNIT else render(fmt, report)


def lint_rendered(fmt: Format) -> str:
    if fmt is Format.JUNIT:
        return junit.render_lint(LINTED, timestamp=PINNED, hostname="ci-runner-7")
    if fmt is Format.SARIF:
        return sarif.render_lint(LINTED, tool_version="9.9.9")
    return github.render_lint(LINTED)


LINT_FORMATS = (Format.JUNIT, Format.SARIF, Format.GITHUB)
EXPECTED_FILES = {
    **{f"{case}.{fmt}": (case, fmt) for case in REPORT_CASES for fmt in Format},
    **{f"lint.{fmt}": ("lint", fmt) for fmt in LINT_FORMATS},
}


def check_expected(name: str, output: str) -> None:
    path = EXPECTED / name
    if UPDATE_EXPECTED:
        path.write_bytes(output.encode("utf-8"))
    assert path.exists(), f"{path} is missing; write it with UPDATE_EXPECTED=1 (see above)"
    expected = path.read_bytes().decode("utf-8")
    assert output == expected, f"{name} differs from {path}; review, then rewrite it with UPDATE_EXPECTED=1"


@pytest.mark.parametrize("case", list(REPORT_CASES))
@pytest.mark.parametrize("fmt", list(Format))
def test_output_is_the_expected_one_for_the_same_report(case: str, fmt: Format) -> None:
    check_expected(f"{case}.{fmt}", rendered(fmt, REPORT_CASES[case]))


@pytest.mark.parametrize("fmt", LINT_FORMATS)
def test_lint_output_is_the_expected_one_for_the_same_problems(fmt: Format) -> None:
    check_expected(f"lint.{fmt}", lint_rendered(fmt))


def test_every_expected_file_is_checked_by_a_test() -> None:
    """A file left behind by a renamed case or format would otherwise go stale unnoticed."""
    stored = {path.name for path in EXPECTED.iterdir() if path.name != "README.md"}
    assert stored == set(EXPECTED_FILES)


LEAKY_TOKEN = "dG9rOjY2NmM2NTYxNmItNzQ2NS03Mzc0LTRmNzUtNzQ3MDc1NzQ3Mw=="


def token_pieces_in(text: str, token: str) -> list[str]:
    """Every run of FRAGMENT_LENGTH characters of `token` that `text` holds, in any case."""
    folded, secret = text.lower(), token.lower()
    runs = {secret[start : start + FRAGMENT_LENGTH] for start in range(len(secret) - FRAGMENT_LENGTH + 1)}
    return sorted(run for run in runs if run in folded)


@pytest.mark.parametrize("fmt", list(Format))
def test_no_format_leaks_a_token(fmt: Format, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A format that reached for the environment or the request headers would hold the token.
    monkeypatch.setenv(TOKEN_ENV, LEAKY_TOKEN)
    monkeypatch.setenv("AUTHORIZATION", f"Bearer {LEAKY_TOKEN}")
    output = render(fmt, REPORT)
    assert "dG9rOj" not in output
    assert "Bearer" not in output

    # A report that carries the token in every field the server fills, as if the client had not scrubbed
    # its answers: every format does show it...
    leaky = hostile_report(LEAKY_TOKEN)
    assert LEAKY_TOKEN in render(fmt, leaky)
    # ...and the output layer of `validate` keeps every piece of it out of stdout, report files and the
    # step summary, with the scrubber it builds from the run's own token.
    monkeypatch.setattr(run, "validate", lambda prepared, options: leaky)
    report_file, summary = tmp_path / "report", tmp_path / "summary.md"
    stdout, stderr = StringIO(), StringIO()
    summary.touch()
    request = ValidateRequest(
        paths=[REPO / "connector.yaml"], output_format=fmt, reports=[f"{fmt}={report_file}"]
    )
    environ = {TOKEN_ENV: LEAKY_TOKEN, "GITHUB_STEP_SUMMARY": str(summary)}
    code = run.run_validate(request, environ=environ, stdout=stdout, stderr=stderr)
    assert code == leaky.exit_code, stderr.getvalue()
    written = {"stdout": stdout.getvalue(), "report file": report_file.read_text(encoding="utf-8")}
    if fmt is Format.GITHUB:
        written["step summary"] = summary.read_text(encoding="utf-8")
    for where, text in written.items():
        assert "[REDACTED]" in text, where
        assert token_pieces_in(text, LEAKY_TOKEN) == [], where


# --- Markdown: server and user text is inert ------------------------------------------------------------

HOSTILE = (
    "[click](https://evil.example/x)",
    "![x](http://evil.example/x.png)",
    "<img src=x onerror=alert(1)>",
    "<a href='https://evil.example'>a</a>",
    "[ref][1]\n\n[1]: https://evil.example",
    "https://evil.example/bare www.evil.example",
    "*bold* _em_ `code` ~~gone~~ | cell",
    "# heading\n- item\n1. item",
    "&lt;img src=x&gt; &#60;script&#62;",
)


def hostile_report(text: str) -> Report:
    """`text` everywhere the server or the user can put it: names, ids, region, codes, notes, paths."""
    server = WorkspaceIdentity(text, text, text)
    evidence = Evidence("GET", f"/contacts/{text}", 403, error_code=text, request_id=text, note=text)
    result = replace(GRANTED, verdict=Verdict.INCONCLUSIVE, evidence=(evidence,), remediation=text)
    mismatch = WorkspaceCheck(WorkspaceStatus.MISMATCH, WORKSPACE, server, ("id", "name"), Position(8, 1))
    connector = replace(checked(f"{text}.yaml", (result,), workspace=mismatch, name=text))
    invalid = ConnectorResult(
        path=text,
        name=text,
        auth_mode=None,
        token=TokenCheck(TokenStatus.UNKNOWN, error_code=text, env=text, message=text),
        workspace=None,
        error=text,
    )
    return report_of(connector, invalid)


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("render_markdown", [markdown.render, step_summary])
def test_markdown_renders_server_text_inert(text: str, render_markdown: Any) -> None:
    from markdown_it import MarkdownIt

    source = render_markdown(hostile_report(text))
    html = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough").render(source)

    tags = set(re.findall(r"</?([a-zA-Z][a-zA-Z0-9]*)", html))
    assert tags <= {"h2", "h3", "p", "strong", "code", "table", "thead", "tbody", "tr", "th", "td", "br",
                    "ul", "li"}, tags  # fmt: skip
    outside_code = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", source)  # code spans are inert everywhere
    for raw in ("<img", "<a ", "](", "][", "https://", "www.evil"):
        assert raw not in outside_code, raw  # nothing a looser renderer (GFM autolinks) reads as markup
    # The text is all there, as text: what the server sent is what the reader sees.
    visible = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    import html as html_module

    assert " ".join(text.split()) in html_module.unescape(visible)


def test_a_token_rejected_by_a_probe_after_an_unreadable_me_says_so_in_text_and_findings() -> None:
    """Issue 10 item 3: /me refused (token_unauthorized), then a probe refused the token itself."""
    message = (
        "GET /me could not read the workspace, and GET /tags then answered 401 unauthorized: Intercom "
        "rejected the token itself"
    )
    later = replace(
        TOKEN_REJECTED,
        token=TokenCheck(
            TokenStatus.REJECTED,
            "unauthorized",
            TOKEN_ENV,
            (
                Evidence("GET", "/me", 401, "token_unauthorized", strength=Strength.INFERENCE),
                Evidence("GET", "/tags", 401, "unauthorized", note="the token itself was refused"),
            ),
            message=message,
        ),
    )
    shown = " ".join(render(Format.TEXT, report_of(later)).split())
    assert f"REJECTED by Intercom (from {TOKEN_ENV}): {message}; no permission is reported." in shown
    assert "GET /me → 401" not in shown.split("REJECTED by Intercom")[1].split(";")[0]
    [annotation] = github.render(report_of(later)).splitlines()
    assert message in annotation and "GET /tags → 401 unauthorized" in annotation
    assert "exit_code" in junit_of(report_of(later))


# --- text for a terminal: colour and -q (issue 13 item 9) --------------------------------------------------

SGR = re.compile(r"\x1b\[[0-9;]*m")


def test_coloured_text_is_the_plain_text_with_colour_added() -> None:
    from validator.formats import text

    plain, coloured = text.render(REPORT), text.render(REPORT, color=True)
    assert "\x1b[" not in plain and SGR.sub("", coloured) == plain
    for shown in ("granted", "MISSING", "PLAN-RESTRICTED", "inconclusive", "unverifiable"):
        assert re.search(rf"\x1b\[\d+m{shown}\x1b\[0m", coloured), shown
    assert re.search(r"\x1b\[1;\d+mResult: ERROR\x1b\[0m \(exit 2", coloured)
    assert "\x1b[31mREJECTED\x1b[0m" in coloured and "\x1b[31mMISMATCH\x1b[0m" in coloured


def test_quiet_text_is_the_connectors_that_could_not_be_checked_and_the_result_line() -> None:
    from validator.formats import text

    lines = text.render(REPORT, quiet=True).splitlines()
    assert lines[-1] == text.render(REPORT).splitlines()[-1]
    assert [line.split(": ", 2)[:2] for line in lines[:-1]] == [
        [TOKEN_REJECTED.path, "token REJECTED by Intercom (GET /me → 401)"],
        [TOKEN_MISSING.path, "token MISSING"],
        ["error", "connectors/broken.yaml:3:10"],
        ["error", "connectors/invalid.yaml:4:11"],  # every problem of an invalid file, as lint lists them
        ["error", "connectors/invalid.yaml:9:3"],
        ["error", "connectors/gone.yaml"],
    ]
    assert SGR.sub("", text.render(REPORT, color=True, quiet=True)) == text.render(REPORT, quiet=True)


def test_coloured_warnings_keep_their_text() -> None:
    from validator.formats import text
    from validator.report import Notice, NoticeLevel

    warned = replace(
        EVERY_VERDICT,
        warnings=(Notice("a_warning", "Mind this."), Notice("a_note", "Noted.", level=NoticeLevel.NOTE)),
    )
    report = report_of(warned)
    coloured = text.render(report, color=True)
    assert "\x1b[33mwarning\x1b[0m [a_warning]" in coloured and "\x1b[36mnote\x1b[0m [a_note]" in coloured
    assert SGR.sub("", coloured) == text.render(report)
    assert "Mind this." not in text.render(report, quiet=True)  # -q: the result line and errors only
