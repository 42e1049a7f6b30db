"""The JSON report (`schemas/report.schema.json`, format_version 1)."""

from __future__ import annotations

import json
from typing import Any

from validator.model import Position
from validator.report import (
    ConnectorResult,
    Evidence,
    PermissionResult,
    Report,
    WorkspaceCheck,
    WorkspaceIdentity,
)

FORMAT_VERSION = 1


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
        "token": {
            "status": str(connector.token.status),
            "error_code": connector.token.error_code,
            "env": connector.token.env,
            "message": connector.token.message,
            "evidence": [_evidence(item) for item in connector.token.evidence],
        },
        "workspace": _workspace(connector.workspace),
        "permissions": [_permission(result) for result in connector.permissions],
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
