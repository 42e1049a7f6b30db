"""Warnings and notes (`Notice`): every format shows them, none changes the outcome or the exit code."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import xmlschema

from validator.formats import github, json_format, junit, markdown, sarif, text
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
    Notice,
    NoticeLevel,
    PermissionResult,
    Report,
    TokenCheck,
    WorkspaceCheck,
    WorkspaceIdentity,
)

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "tests" / "data" / "schemas"
WORKSPACE = WorkspaceIdentity("abc12xyz", "Acme Support", Region.US)
CONVERSATIONS_READ = Permission(DataType.CONVERSATIONS, Access.READ)

HIDDEN_TICKETS = Notice(
    code="hidden_things",
    message="Lists will leave out the hidden things.",
    labels=("Read hidden things",),
    permission=CONVERSATIONS_READ,
    position=Position(14, 20),
)
OLD_WAIVER = Notice(code="waiver_unneeded", message="The waiver is no longer needed.", level=NoticeLevel.NOTE)

PASSING = ConnectorResult(
    path="connectors/acme.yaml",
    name="acme",
    auth_mode=AuthMode.ACCESS_TOKEN,
    token=TokenCheck(
        TokenStatus.VALID,
        env="INTERCOM_ACCESS_TOKEN",
        evidence=(Evidence("GET", "/me", 200, strength=Strength.PROOF),),
    ),
    workspace=WorkspaceCheck(WorkspaceStatus.MATCH, WORKSPACE, WORKSPACE, position=Position(3, 1)),
    permissions=(
        PermissionResult(
            CONVERSATIONS_READ,
            Verdict.GRANTED,
            (Evidence("GET", "/conversations", 200, strength=Strength.PROOF),),
            ("Read conversations",),
            position=Position(14, 20),
        ),
    ),
    auth_position=Position(7, 3),
    api_version="2.16",
)
WARNED = replace(PASSING, warnings=(HIDDEN_TICKETS, OLD_WAIVER))
REPORT = Report("9.9.9", (WARNED,))


def test_notices_never_change_the_outcome_or_the_exit_code() -> None:
    assert WARNED.exit_code == PASSING.exit_code
    assert REPORT.outcome == Report("9.9.9", (PASSING,)).outcome


def test_json_report_lists_each_notice_with_its_code_level_labels_permission_and_position() -> None:
    document = json_format.to_document(REPORT)
    schema = json.loads((REPO / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)
    assert document["connectors"][0]["warnings"] == [
        {
            "code": "hidden_things",
            "level": "warning",
            "message": "Lists will leave out the hidden things.",
            "labels": ["Read hidden things"],
            "permission": {"data_type": "conversations", "access": "read"},
            "position": {"line": 14, "col": 20},
        },
        {
            "code": "waiver_unneeded",
            "level": "note",
            "message": "The waiver is no longer needed.",
            "labels": [],
            "permission": None,
            "position": None,
        },
    ]
    assert json_format.to_document(Report("9.9.9", (PASSING,)))["connectors"][0]["warnings"] == []


def test_text_report_has_a_warnings_section_after_the_verdicts() -> None:
    shown = text.render(REPORT)
    assert "Warnings (the result does not change):" in shown
    assert "warning [hidden_things] conversations:read:" in shown
    assert '"Read hidden things"' in shown
    assert "note [waiver_unneeded]:" in shown
    assert shown.index("Warnings") > shown.index("DATA TYPE")
    assert "Warnings" not in text.render(Report("9.9.9", (PASSING,)))


def test_markdown_lists_the_notices() -> None:
    shown = markdown.render(REPORT)
    assert "**Warnings**" in shown
    assert "- warning `hidden_things` `conversations:read`: Lists will leave out the hidden things." in shown
    assert '"Read hidden things"' in shown


def test_github_annotations_are_a_warning_and_a_notice_at_their_lines() -> None:
    commands = github.render(REPORT).splitlines()
    warning = [line for line in commands if line.startswith("::warning ")]
    notice = [line for line in commands if line.startswith("::notice ")]
    assert len(warning) == 1 and len(notice) == 1
    assert "file=connectors/acme.yaml,line=14,col=20," in warning[0]
    assert "title=Hidden things%3A conversations%3Aread" in warning[0]
    assert "line=7,col=3" in notice[0]  # about the connector as a whole: at its auth section
    assert not any(line.startswith("::error") for line in commands)


def test_sarif_has_a_rule_per_notice_code_and_results_at_the_levels_of_the_notices() -> None:
    document = sarif.to_document(REPORT)
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(document)
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [(result["ruleId"], result["level"]) for result in results] == [
        ("hidden-things", "warning"),
        ("waiver-unneeded", "note"),
    ]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 14, "startColumn": 20}
    assert results[0]["partialFingerprints"] != results[1]["partialFingerprints"]


def test_junit_writes_the_notices_to_system_out_and_fails_no_testcase() -> None:
    xml = junit.render(REPORT, timestamp=datetime(2026, 3, 1, tzinfo=UTC), hostname="ci")
    xmlschema.XMLSchema(str(SCHEMAS / "junit.xsd")).validate(xml)
    suite = ET.fromstring(xml).find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")
    out = suite.findtext("system-out") or ""
    assert "warning [hidden_things]: Lists will leave out the hidden things." in out
    assert "note [waiver_unneeded]: The waiver is no longer needed." in out
