"""JSON: `validate`'s report (`schemas/report.schema.json`, format_version 1), `lint`'s result and `plan`'s
plan, each in the shape the README documents."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from validator.model import Permission, Position
from validator.plan import describe_rule, identity_answers, route_miss_rule
from validator.report import (
    ConnectorResult,
    Drift,
    Evidence,
    Notice,
    PermissionResult,
    Report,
    WaiverUse,
    WorkspaceCheck,
    WorkspaceIdentity,
)

if TYPE_CHECKING:
    from validator.catalog import AnswerRule
    from validator.lint import LintResult
    from validator.plan import Plan, PlannedRequest
    from validator.spec import SpecProblem

FORMAT_VERSION = 1
LINT_FORMAT_VERSION = 1  # `lint --format json`
PLAN_FORMAT_VERSION = 1  # `plan --format json`


def render(report: Report) -> str:
    return json.dumps(to_document(report), indent=2, ensure_ascii=False) + "\n"


def to_document(report: Report) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "connector-validator", "version": report.tool_version},
        "outcome": str(report.outcome),
        "exit_code": int(report.exit_code),
        "connectors": [_connector(connector) for connector in report.connectors],
    }


def _connector(connector: ConnectorResult) -> dict[str, Any]:
    return {
        "path": connector.path,
        "name": connector.name,
        "auth_mode": str(connector.auth_mode) if connector.auth_mode else None,
        "api_version": connector.api_version,
        "outcome": str(connector.outcome),
        "exit_code": int(connector.exit_code),
        "error": connector.error,
        "problems": [_problem(problem) for problem in connector.problems],
        "token": {
            "status": str(connector.token.status),
            "error_code": connector.token.error_code,
            "env": connector.token.env,
            "message": connector.token.message,
            "evidence": [_evidence(item) for item in connector.token.evidence],
        },
        "workspace": _workspace(connector.workspace),
        "permissions": [_permission(result) for result in connector.permissions],
        "warnings": [_notice(notice) for notice in connector.warnings],
        "excess": str(connector.excess),
        "policy_failures": [
            {
                "code": failure.code,
                "message": failure.message,
                "permission": _permission_ref(failure.permission),
                "position": _position(failure.position),
            }
            for failure in connector.policy_failures
        ],
        "drift": _drift(connector.drift),
    }


def _permission_ref(permission: Permission | None) -> dict[str, str] | None:
    if permission is None:
        return None
    return {"data_type": str(permission.data_type), "access": str(permission.access)}


def _drift(drift: Drift | None) -> dict[str, Any] | None:
    if drift is None:
        return None
    return {
        "baseline": drift.baseline,
        "found": drift.found,
        "gained": [_permission_ref(permission) for permission in drift.gained],
        "lost": [_permission_ref(permission) for permission in drift.lost],
        "unknown": drift.unknown,
    }


def _waiver(waiver: WaiverUse | None) -> dict[str, Any] | None:
    if waiver is None:
        return None
    return {
        "reason": waiver.reason,
        "expires": waiver.expires.isoformat(),
        "applied": waiver.applied,
        "expired": waiver.expired,
        "position": _position(waiver.position),
    }


def _notice(notice: Notice) -> dict[str, Any]:
    permission = notice.permission
    return {
        "code": notice.code,
        "level": str(notice.level),
        "message": notice.message,
        "labels": list(notice.labels),
        "permission": (
            None
            if permission is None
            else {"data_type": str(permission.data_type), "access": str(permission.access)}
        ),
        "position": _position(notice.position),
    }


def _problem(problem: SpecProblem) -> dict[str, Any]:
    return {
        "line": problem.line,
        "col": problem.col,
        "message": problem.message,
        "json_path": problem.json_path,
    }


def _identity(identity: WorkspaceIdentity | None) -> dict[str, Any] | None:
    if identity is None:
        return None
    region = str(identity.region).lower() if identity.region is not None else None
    return {"id": identity.id, "name": identity.name, "region": region}


def _workspace(check: WorkspaceCheck | None) -> dict[str, Any] | None:
    if check is None:
        return None
    return {
        "status": str(check.status),
        "expected": _identity(check.expected),
        "actual": _identity(check.actual),
        "mismatches": list(check.mismatches),
        "position": _position(check.position),
        "labels": list(check.labels),
        "remediation": check.remediation,
    }


def _permission(result: PermissionResult) -> dict[str, Any]:
    return {
        "data_type": str(result.data_type),
        "access": str(result.access),
        "status": str(result.verdict),
        "evidence": [_evidence(item) for item in result.evidence],
        "labels": list(result.labels),
        "remediation": result.remediation,
        "position": _position(result.position),
        "declared": str(result.declared),
        "outcome": str(result.outcome),
        "note": result.note,
        "waiver": _waiver(result.waiver),
    }


def _evidence(evidence: Evidence) -> dict[str, Any]:
    return {
        "method": evidence.method,
        "path": evidence.path,
        "http_status": evidence.http_status,
        "error_code": evidence.error_code,
        "request_id": evidence.request_id,
        "strength": str(evidence.strength) if evidence.strength else None,
        "note": evidence.note,
    }


def _position(position: Position | None) -> dict[str, int] | None:
    return None if position is None else {"line": position.line, "col": position.col}


# --- lint -------------------------------------------------------------------------------------------------


def render_lint(result: LintResult) -> str:
    """The documented machine-readable shape (README, "lint --format json").

    {"format_version": 1, "files": [{"path", "valid", "error", "problems": [{"line", "col", "message",
    "json_path"}], "warnings": [same shape]}]}; `error` is null unless the file could not be read; warnings
    (an expired waiver) never make a file invalid.
    """
    document = {
        "format_version": LINT_FORMAT_VERSION,
        "files": [
            {
                "path": file.path,
                "valid": file.valid,
                "error": file.error,
                "problems": [
                    {"line": p.line, "col": p.col, "message": p.message, "json_path": p.json_path}
                    for p in file.problems
                ],
                "warnings": [
                    {"line": w.line, "col": w.col, "message": w.message, "json_path": w.json_path}
                    for w in file.warnings
                ],
            }
            for file in result.files
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- plan -------------------------------------------------------------------------------------------------


def render_plan(plan: Plan) -> str:
    document = {
        "format_version": PLAN_FORMAT_VERSION,
        "path": plan.path,
        "name": plan.name,
        "host": plan.host,
        "api_version": plan.api_version,
        "token_env": plan.token_env,
        "identity": {
            "method": plan.identity.method,
            "path": plan.identity.path,
            "why_safe": plan.identity.why_safe,
            "answers": list(identity_answers(plan.identity)),
        },
        "permissions": [
            {
                "data_type": str(planned.permission.data_type),
                "access": str(planned.permission.access),
                "declared": str(planned.declared),
                "labels": list(planned.labels),
                "labels_inferred": planned.labels_inferred,
                "proves": planned.proves,
                "unverifiable_because": planned.unverifiable_because,
                "alternatives": planned.alternatives,
                "requests": [_request_json(request) for request in planned.requests],
            }
            for planned in plan.permissions
        ],
        "notes": list(plan.notes),
        "route_miss": {
            "rule": route_miss_rule(plan.route_miss),
            "controls": [
                {
                    "method": control.method,
                    "path": control.path,
                    "body": control.body,
                    "why_safe": control.why_safe,
                }
                for control in plan.controls
            ],
        },
        "common_answers": [_rule_json(rule) for rule in plan.common_answers],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _request_json(request: PlannedRequest) -> dict[str, Any]:
    return {
        "method": request.method,
        "target": request.target,
        "body": request.body,
        "why_safe": request.why_safe,
        "labels": list(request.labels),
        "strength": str(request.strength) if request.strength else None,
        "answers": [_rule_json(rule) for rule in request.answers],
    }


def _rule_json(rule: AnswerRule) -> dict[str, Any]:
    return {
        "status": rule.status,
        "codes": list(rule.codes),
        "message_contains": rule.message_contains,
        "body_type": rule.body_type,
        "verdict": str(rule.verdict),
        "strength": str(rule.strength) if rule.strength else None,
        "route_miss_possible": rule.route_miss_possible,
        "note": rule.note,
        "description": describe_rule(rule),
    }
