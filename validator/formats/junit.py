"""JUnit XML in the shape of Apache Ant's schema, which GitLab, Jenkins and most CI test views read.

One `<testsuite>` per connector file; one `<testcase>` for the token, one for the workspace and one per
declared permission. A failing check is a `<failure>`. A check that could not be decided (inconclusive or
unverifiable, a token or workspace that could not be read) is an `<error>`, not a `<skipped>`: CI views count
skipped tests as harmless and keep the build green, while the run exits 4 because nothing proves the
permission is granted. An `<error>` keeps the test view in step with the exit code: failures for exits 1 and
3, errors for exits 2 and 4. `<skipped>` is kept for what truly was not run: the workspace and the declared
permissions behind a rejected (or missing) token, whose failure already stands; they are listed so that the
CI test view shows what was not checked.

`time` is measured (`ConnectorResult.elapsed` for a suite, the requests of each check for its testcase), in
seconds with millisecond precision; a check that sent nothing says 0.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from validator.findings import (
    CONNECTOR_INVALID,
    TOKEN_SUBJECT,
    WORKSPACE_SUBJECT,
    Finding,
    Severity,
    connector_findings,
    lint_text,
    notice_findings,
    waiver_subject,
)
from validator.model import TokenStatus
from validator.report import ConnectorResult, Report

if TYPE_CHECKING:
    from validator.lint import LintResult


class Result(StrEnum):
    """The child element a testcase gets; a passed testcase has none."""

    FAILURE = "failure"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Case:
    name: str
    result: Result | None = None  # None: passed
    type: str | None = None
    message: str | None = None
    text: str | None = None
    seconds: float | None = None  # measured; None: nothing was sent for it


_XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render(report: Report, *, timestamp: datetime | None = None, hostname: str | None = None) -> str:
    """The JUnit report. `timestamp` and `hostname` default to now (UTC) and this machine.

    They are the only parts of the output not taken from `report`, so tests pin them here.
    """
    suites = [
        _Suite(
            connector.path,
            connector.name or connector.path,
            _testcases(connector),
            _properties(report, connector),
            _notices(connector),
            connector.elapsed,
        )
        for connector in report.connectors
    ]
    return _document(suites, timestamp, hostname)


def render_lint(result: LintResult, *, timestamp: datetime | None = None, hostname: str | None = None) -> str:
    """JUnit for `lint`: a suite per file, a failing testcase per problem (named by its JSON path).

    Every file linted has its suite, so that a clean file shows as one passed `schema` testcase instead of
    being absent.
    """
    by_file: dict[str, list[Case]] = {file.path: [] for file in result.files}
    for problem in result.problems:
        by_file.setdefault(problem.file, []).append(
            Case(
                problem.json_path,
                Result.FAILURE,
                CONNECTOR_INVALID.id,
                problem.message,
                f"{problem.file}:{problem.line}:{problem.col}: {lint_text(problem)}",
            )
        )
    suites = [_Suite(path, path, cases or [Case("schema")], {}) for path, cases in by_file.items()]
    return _document(suites, timestamp, hostname)


def _testcases(connector: ConnectorResult) -> list[Case]:
    found = connector_findings(connector)
    if connector.error is not None or connector.token.status.stops_the_check:
        # The check never started: an error per problem, the time spent reading the file on the first.
        cases = [_from_finding(finding) for finding in found]
        if cases:
            cases[0] = replace(cases[0], seconds=connector.elapsed)
        return cases + _not_checked(connector, "no usable token (auth.token_env)")
    by_subject = {finding.subject: finding for finding in found}
    cases = [_case(TOKEN_SUBJECT, by_subject, connector.token.elapsed)]
    if connector.workspace is None and connector.token.status is TokenStatus.REJECTED:
        cases.append(Case(WORKSPACE_SUBJECT, Result.SKIPPED, message=_REJECTED))
    else:
        cases.append(_case(WORKSPACE_SUBJECT, by_subject))  # read from the answer to /me: no time of its own
    cases += [_case(str(result.permission), by_subject, result.elapsed) for result in connector.permissions]
    cases += [_case(waiver_subject(failure), by_subject) for failure in connector.policy_failures]
    return cases + _not_checked(connector, "Intercom rejected the token")


_REJECTED = "not checked: Intercom rejected the token"


def _not_checked(connector: ConnectorResult, reason: str) -> list[Case]:
    """A skipped testcase per declared permission that no request was sent for."""
    message = f"not checked: {reason}"
    return [Case(str(permission), Result.SKIPPED, message=message) for permission in connector.not_checked]


def _case(subject: str, findings: dict[str, Finding], seconds: float | None = None) -> Case:
    finding = findings.get(subject)
    return (
        Case(subject, seconds=seconds)
        if finding is None
        else replace(_from_finding(finding), seconds=seconds)
    )


def _from_finding(finding: Finding) -> Case:
    if finding.rule.severity is Severity.WAIVED:  # accepted by a waiver in force: not run as a test, why
        return Case(finding.subject, Result.SKIPPED, message=finding.summary, text=finding.text)
    result = Result.FAILURE if finding.rule.severity is Severity.FAILED else Result.ERROR
    return Case(finding.subject, result, finding.rule.id, finding.summary, finding.text)


def _notices(connector: ConnectorResult) -> str:
    """One block per warning or note: `level [code]: message`, then its Developer Hub labels."""
    return "".join(
        f"{notice.level} [{notice.code}]: {finding.text}\n"
        for notice, finding in zip(connector.warnings, notice_findings(connector), strict=True)
    )


def _properties(report: Report, connector: ConnectorResult) -> dict[str, str]:
    values = {
        "connector-validator.version": report.tool_version,
        "outcome": str(connector.outcome),
        "exit_code": str(int(connector.exit_code)),
        "auth_mode": str(connector.auth_mode) if connector.auth_mode else None,
        "api_version": connector.api_version,
    }
    return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True)
class _Suite:
    name: str  # the connector file
    classname: str  # the connector's name, or its file when it has none
    cases: Sequence[Case]
    properties: dict[str, str]
    output: str = ""  # <system-out>: the connector's warnings and notes, which pass or fail no testcase
    seconds: float | None = None  # measured for the whole suite


def _document(suites: Sequence[_Suite], timestamp: datetime | None, hostname: str | None) -> str:
    when = _iso_timestamp(timestamp or datetime.now(UTC))
    host = (hostname if hostname is not None else socket.gethostname()).strip() or "localhost"
    root = ET.Element("testsuites")  # Ant's schema allows no attributes here, not even totals
    for index, suite in enumerate(suites):
        root.append(_suite_element(index, suite, when, host))
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode")
    # ElementTree writes control characters as they are, which makes the document unreadable to any parser.
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + _XML_FORBIDDEN.sub("?", text) + "\n"


def _suite_element(index: int, suite: _Suite, when: str, host: str) -> ET.Element:
    def count(result: Result) -> str:
        return str(sum(1 for case in suite.cases if case.result is result))

    element = ET.Element(
        "testsuite",
        {
            "name": suite.name,
            "timestamp": when,
            "hostname": host,
            "tests": str(len(suite.cases)),
            "failures": count(Result.FAILURE),
            "errors": count(Result.ERROR),
            "skipped": count(Result.SKIPPED),
            "time": _seconds(suite.seconds),
            "package": suite.classname,
            "id": str(index),
        },
    )
    # Ant's schema fixes the order: properties, testcases, system-out, system-err; all but testcases required.
    properties = ET.SubElement(element, "properties")
    for name, value in sorted(suite.properties.items()):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    for case in suite.cases:
        element.append(_case_element(case, suite.classname))
    ET.SubElement(element, "system-out").text = suite.output
    ET.SubElement(element, "system-err").text = ""
    return element


def _case_element(case: Case, classname: str) -> ET.Element:
    element = ET.Element(
        "testcase", {"name": case.name, "classname": classname, "time": _seconds(case.seconds)}
    )
    if case.result is not None:
        attributes = {"message": case.message or ""}
        if case.result is not Result.SKIPPED:
            attributes["type"] = case.type or str(case.result)
        ET.SubElement(element, str(case.result), attributes).text = case.text
    return element


def _seconds(value: float | None) -> str:
    """Ant's `time`: seconds, to the millisecond. Anything measured shows as at least 0.001, so that a
    quick check is never taken for one that did not run (and viewers that divide by the total, such as
    `junit2html --report-matrix`, get a total above zero)."""
    if value is None or value <= 0:
        return "0"
    return f"{max(value, 0.001):.3f}"


def _iso_timestamp(moment: datetime) -> str:
    """Ant's pattern: seconds precision and no zone, so the time is written in UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")
