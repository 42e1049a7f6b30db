"""SARIF 2.1.0 for code scanning: one rule per kind of finding, one result per finding, at its line."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from validator import __version__
from validator.findings import (
    CONNECTOR_INVALID,
    FINGERPRINT_KEY,
    RULES,
    AnyRule,
    Finding,
    findings,
    lint_text,
    normalized_path,
    problem_fingerprint,
)
from validator.model import Position
from validator.report import Report

if TYPE_CHECKING:
    from validator.lint import LintResult
    from validator.spec import SpecProblem

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "connector-validator"
INFORMATION_URI = "https://connector-validator.dev/"
SOURCE_ROOT = "%SRCROOT%"


# --- SARIF ------------------------------------------------------------------------------------------------


def render(report: Report) -> str:
    return json.dumps(to_document(report), indent=2, ensure_ascii=False) + "\n"


def to_document(report: Report) -> dict[str, Any]:
    found = findings(report)
    # Every kind of finding is described, and each kind of notice the report holds, in order of appearance.
    rules: list[AnyRule] = list(RULES)
    rules += dict.fromkeys(finding.rule for finding in found if finding.rule not in RULES)
    results = [_result(finding, rules.index(finding.rule)) for finding in found]
    paths = [connector.path for connector in report.connectors]
    return _log(report.tool_version, rules, results, automation_id("validate", paths))


def automation_id(command: str, paths: Sequence[str]) -> str:
    """`runAutomationDetails.id`: code scanning keeps one analysis per category (the id up to its last
    `/`), so runs over different connector files must not share one, and reruns over the same files must.

    The category names the command and a digest of the files (normalized, in any order); the run part
    after the last `/` is left empty, so that each upload replaces the previous one of its category.
    """
    names = sorted({normalized_path(path) for path in paths})
    digest = hashlib.sha256("\0".join(names).encode("utf-8")).hexdigest()[:12]
    return f"{TOOL_NAME}/{command}/{digest}/"


def _log(
    tool_version: str, rules: list[AnyRule], results: list[dict[str, Any]], automation: str
) -> dict[str, Any]:
    driver: dict[str, Any] = {
        "name": TOOL_NAME,
        "fullName": f"{TOOL_NAME} {tool_version}",
        "version": tool_version,
        "informationUri": INFORMATION_URI,
        "rules": [_rule(rule) for rule in rules],
    }
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": driver},
                "automationDetails": {"id": automation},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def _rule(rule: AnyRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description.replace("`", "")},
        "help": {"text": rule.help_text, "markdown": rule.help},
        "defaultConfiguration": {"level": rule.level},
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    return {
        "ruleId": finding.rule.id,
        "ruleIndex": rule_index,
        "level": finding.rule.level,
        "message": {"text": finding.text},
        "locations": [_location(finding.path, finding.position)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
    }


def _location(path: str, position: Position | None) -> dict[str, Any]:
    # A finding without a place (a file that could not be read) is shown at the file's start: code scanning
    # and the multitool want a region on every result.
    where = position or Position(1, 1)
    region = {"startLine": where.line, "startColumn": where.col}
    return {"physicalLocation": {"artifactLocation": _artifact(path), "region": region}}


def _artifact(path: str) -> dict[str, Any]:
    posix = normalized_path(path)
    # `C:\\x` and `C:/x` are absolute; `a:b.yaml` is a relative name holding a colon, not a drive.
    if PurePosixPath(posix).is_absolute() or PureWindowsPath(path).is_absolute():
        # Code scanning wants paths relative to the checkout; an absolute one can only be kept as a file URI.
        return {"uri": "file://" + quote(posix if posix.startswith("/") else "/" + posix, safe="/:")}
    # Percent-encoded, `:` included: `a:b.yaml` must not read as a URI with the scheme `a`.
    return {"uri": quote(posix, safe="/"), "uriBaseId": SOURCE_ROOT}


# --- lint -------------------------------------------------------------------------------------------------


def render_lint(result: LintResult, tool_version: str = __version__) -> str:
    """SARIF for `lint`: one `connector-invalid` result per problem, at its line and column."""
    results = [_lint_result(problem) for problem in result.problems]
    results += [_lint_result(warning, "warning") for warning in result.warnings]
    automation = automation_id("lint", [file.path for file in result.files])
    document = _log(tool_version, [CONNECTOR_INVALID], results, automation)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _lint_result(problem: SpecProblem, level: str | None = None) -> dict[str, Any]:
    return {
        "ruleId": CONNECTOR_INVALID.id,
        "ruleIndex": 0,
        "level": level or CONNECTOR_INVALID.level,
        "message": {"text": lint_text(problem)},
        "locations": [_location(problem.file, Position(problem.line, problem.col))],
        "partialFingerprints": {FINGERPRINT_KEY: problem_fingerprint(problem)},
    }
