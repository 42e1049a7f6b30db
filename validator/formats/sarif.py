"""SARIF 2.1.0 for code scanning: one rule per kind of finding, one result per finding, at its line."""

from __future__ import annotations

import hashlib
import json
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
    return _log(report.tool_version, rules, results)


def _log(tool_version: str, rules: list[AnyRule], results: list[dict[str, Any]]) -> dict[str, Any]:
    driver: dict[str, Any] = {
        "name": TOOL_NAME,
        "version": tool_version,
        "informationUri": INFORMATION_URI,
        "rules": [_rule(rule) for rule in rules],
    }
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [{"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}],
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
    physical: dict[str, Any] = {"artifactLocation": _artifact(path)}
    if position is not None:
        physical["region"] = {"startLine": position.line, "startColumn": position.col}
    return {"physicalLocation": physical}


def _artifact(path: str) -> dict[str, Any]:
    posix = normalized_path(path)
    if PurePosixPath(posix).is_absolute() or PureWindowsPath(path).drive:
        # Code scanning wants paths relative to the checkout; an absolute one can only be kept as a file URI.
        return {"uri": "file://" + quote(posix if posix.startswith("/") else "/" + posix, safe="/:")}
    return {"uri": quote(posix), "uriBaseId": SOURCE_ROOT}


# --- lint -------------------------------------------------------------------------------------------------


def render_lint(result: LintResult, tool_version: str = __version__) -> str:
    """SARIF for `lint`: one `connector-invalid` result per problem, at its line and column."""
    results = [_lint_result(problem) for problem in result.problems]
    results += [_lint_result(warning, "warning") for warning in result.warnings]
    return json.dumps(_log(tool_version, [CONNECTOR_INVALID], results), indent=2, ensure_ascii=False) + "\n"


def _lint_result(problem: SpecProblem, level: str | None = None) -> dict[str, Any]:
    # The JSON path says which value is wrong, and unlike the line it survives edits elsewhere in the file.
    where = "\0".join((normalized_path(problem.file), problem.json_path, problem.message))
    return {
        "ruleId": CONNECTOR_INVALID.id,
        "ruleIndex": 0,
        "level": level or CONNECTOR_INVALID.level,
        "message": {"text": lint_text(problem)},
        "locations": [_location(problem.file, Position(problem.line, problem.col))],
        "partialFingerprints": {FINGERPRINT_KEY: hashlib.sha256(where.encode("utf-8")).hexdigest()[:32]},
    }
