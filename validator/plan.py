"""`plan`: what `validate` would send for a connector.yaml, and how each answer would be read.

Offline by construction: it reads the spec and the probe catalog, nothing else. It imports neither httpx nor
the checker (which pulls in the HTTP client), so it runs without a token, a network or a sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from validator.catalog import AnswerRule, Catalog, IdentityCheck, Probe
from validator.model import ConnectorSpec, Permission
from validator.report import Strength, Verdict

JSON_FORMAT_VERSION = 1
FORMATS = ("text", "json")


def identity_answers(identity: IdentityCheck) -> tuple[str, ...]:
    """How the checker reads the identity check's answers, in words, from the catalog's fields."""
    fields = identity.workspace
    return (
        f"200 with type {identity.body_type} and {fields.id}: the token is valid; {fields.id}, "
        f"{fields.region} and {fields.name} are compared with `workspace` (proof)",
        f"{identity.rejected_status} in Intercom's error envelope (unauthorized, token_revoked, ...): "
        "the token is rejected (exit 3) and no permission is probed",
        "anything else: the token cannot be judged, and every permission is inconclusive",
    )


class PlanError(Exception):
    """The plan cannot be made: unreadable or invalid connector.yaml, or an unknown format. One line."""


def plan_file(path: Path, output_format: str = "text") -> str:
    """The rendered plan for the connector.yaml at `path`; raises PlanError for anything the user must fix."""
    from validator.catalog import load_catalog
    from validator.spec import SpecError, SpecFileError, load_spec

    if output_format not in FORMATS:
        raise PlanError(f"unknown format {output_format!r} for plan ({', '.join(FORMATS)})")
    try:
        spec = load_spec(path)
    except SpecFileError as error:
        raise PlanError(str(error)) from None
    except SpecError as error:
        raise PlanError(error.problems[0].format()) from None
    plan = build_plan(spec, load_catalog())
    return render_json(plan) if output_format == "json" else render_text(plan)


@dataclass(frozen=True)
class PlannedRequest:
    """One probe as `validate` would send it, with the rules that read its answer."""

    method: str
    target: str  # the path with its query string
    body: Mapping[str, Any] | None
    why_safe: str
    answers: tuple[AnswerRule, ...]
    labels: tuple[str, ...]

    @property
    def strength(self) -> Strength | None:
        """The strength of a `granted` read from this probe: proof for a served read, inference for writes."""
        strengths = [
            rule.strength for rule in self.answers if rule.verdict is Verdict.GRANTED and rule.strength
        ]
        if Strength.INFERENCE in strengths:
            return Strength.INFERENCE
        return strengths[0] if strengths else None


@dataclass(frozen=True)
class PlannedPermission:
    permission: Permission
    labels: tuple[str, ...]
    requests: tuple[PlannedRequest, ...]  # empty: no safe probe, the verdict would be `unverifiable`


@dataclass(frozen=True)
class Plan:
    path: str
    name: str
    host: str
    api_version: str
    token_env: str
    identity: IdentityCheck
    permissions: tuple[PlannedPermission, ...]
    common_answers: tuple[AnswerRule, ...]


def build_plan(spec: ConnectorSpec, catalog: Catalog) -> Plan:
    """The requests `validate` would send for `spec`, in the order of the file."""
    planned: list[PlannedPermission] = []
    for permission in spec.permissions:
        entry = catalog.probes_for(permission)
        labels = entry.labels if entry else ()
        probes = entry.probes if entry else ()
        planned.append(
            PlannedPermission(permission, labels, tuple(_request(probe, labels) for probe in probes))
        )
    return Plan(
        path=spec.path,
        name=spec.name,
        host=catalog.hosts[spec.workspace.region],
        api_version=catalog.api_version_for(spec),
        token_env=spec.auth.token_env,
        identity=catalog.identity,
        permissions=tuple(planned),
        common_answers=catalog.common_answers,
    )


def _request(probe: Probe, labels: tuple[str, ...]) -> PlannedRequest:
    return PlannedRequest(
        method=probe.method,
        target=probe.target,
        body=probe.body,
        why_safe=probe.why_safe,
        answers=probe.answers,
        labels=probe.labels or labels,
    )


def describe_rule(rule: AnswerRule) -> str:
    """`404 → granted (inference): past the permission check: …`, as one line."""
    condition = str(rule.status)
    if rule.codes:
        condition += " " + "/".join(rule.codes)
    if rule.message_contains:
        condition += f' with "{rule.message_contains}" in the message'
    if rule.body_type:
        condition += f" with a body of type {rule.body_type}"
    outcome = str(rule.verdict) + (f" ({rule.strength})" if rule.strength else "")
    return f"{condition} → {outcome}" + (f": {rule.note}" if rule.note else "")


def render_text(plan: Plan) -> str:
    lines = [
        f"{plan.path} ({plan.name}): what `validate` would send",
        f"host {plan.host} (or --api-url / INTERCOM_API_URL), Intercom-Version {plan.api_version}, "
        f"token from ${plan.token_env}; nothing is sent by `plan` itself.",
        "",
        f"1. {plan.identity.method} {plan.identity.path}: {plan.identity.why_safe}",
        *(f"     {answer}" for answer in identity_answers(plan.identity)),
    ]
    for number, planned in enumerate(plan.permissions, start=2):
        labels = ", ".join(f'"{label}"' for label in planned.labels) or "no Developer Hub permission known"
        lines += ["", f"{number}. {planned.permission} (Developer Hub: {labels})"]
        if not planned.requests:
            lines.append("     no safe request proves it: the verdict would be unverifiable")
        for request in planned.requests:
            lines.append(f"   {request.method} {request.target}")
            if request.body is not None:
                lines.append(f"     body: {json.dumps(request.body, ensure_ascii=False)}")
            lines.append(f"     safe because: {request.why_safe}")
            lines.append(f"     evidence when granted: {request.strength or 'none'}")
            lines += [f"     {describe_rule(rule)}" for rule in request.answers]
            lines.append("     otherwise the common answers below; anything unexplained → inconclusive")
    lines += ["", "Common answers (any probe, after its own rules):"]
    lines += [f"  {describe_rule(rule)}" for rule in plan.common_answers]
    lines += [
        "",
        "Probes run concurrently once GET /me has proven the token; a permission is granted only when every "
        "request for it says so.",
    ]
    return "\n".join(lines) + "\n"


def render_json(plan: Plan) -> str:
    document = {
        "format_version": JSON_FORMAT_VERSION,
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
                "labels": list(planned.labels),
                "requests": [_request_json(request) for request in planned.requests],
            }
            for planned in plan.permissions
        ],
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
        "note": rule.note,
        "description": describe_rule(rule),
    }
