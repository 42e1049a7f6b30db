"""`plan`: what `validate` would send for a connector.yaml, and how each answer would be read.

`load_plan` builds the plan; every format renders it (`validator.formats`, subject `plan`). Offline by
construction: it reads the spec and the probe catalog, nothing else. It imports neither httpx nor
the checker (which pulls in the HTTP client), so it runs without a token, a network or a sandbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from validator.catalog import AnswerRule, Catalog, ControlRequest, IdentityCheck, Probe, RouteMiss
from validator.errors import ExitCode, ValidatorError
from validator.model import (
    Access,
    ConnectorSpec,
    DataType,
    Declared,
    ExcessMode,
    Permission,
    Strength,
    Verdict,
)


def identity_answers(identity: IdentityCheck) -> tuple[str, ...]:
    """How the checker reads the identity check's answers, in words, from the catalog's fields."""
    fields = identity.workspace
    unreadable = identity.unreadable
    refusals = " or ".join(f"{rule.status} {'/'.join(rule.codes)}" for rule in unreadable.answers)
    labels = ", ".join(f'"{label}"' for label in unreadable.labels)
    return (
        f"200 with type {identity.body_type} and {fields.id}: the token is valid; {fields.id}, "
        f"{fields.region} and {fields.name} are compared with `workspace` (proof)",
        f"{refusals}: the token is valid but may not read its workspace (it needs {labels}): the "
        "workspace is unverified (exit 1), and the permissions are probed all the same; a probe answered "
        f"{identity.rejected_status} with another code then means the token is rejected (exit 3)",
        f"{identity.rejected_status} in Intercom's error envelope with any other code (unauthorized, "
        "token_revoked, ...): the token is rejected (exit 3) and no permission is probed",
        "anything else: the token cannot be judged, and every permission is inconclusive",
    )


def route_miss_rule(route_miss: RouteMiss) -> str:
    """How a 404 that a route miss could also give is read, in words, from the catalog's `route_miss`."""
    statuses = "/".join(str(status) for status in route_miss.statuses)
    return (
        f"Intercom answers {statuses} to a route or method it does not serve, possibly as the bare "
        f'{"/".join(route_miss.codes)} "{route_miss.message}" that some routes also document for a missing '
        "object. A write's 404 counts as evidence only with a resource-specific code, the route's own "
        "message, or, for the rules marked so, an answer that differs from the control request of the same "
        "method (its status, body type, code or message); the same answer, or a control that got no "
        f"{statuses}, makes the permission inconclusive, never granted."
    )


class PlanError(ValidatorError):
    """The plan cannot be made: unreadable or invalid connector.yaml. One line, exit code 2."""

    exit_code = ExitCode.USAGE


def load_plan(path: Path) -> Plan:
    """The plan for the connector.yaml at `path`; raises PlanError for anything the user must fix."""
    from validator.catalog import load_catalog
    from validator.spec import SpecError, SpecFileError, load_spec

    try:
        spec = load_spec(path)
    except SpecFileError as error:
        raise PlanError(str(error)) from None
    except SpecError as error:
        raise PlanError(error.problems[0].format()) from None
    return build_plan(spec, load_catalog())


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
    proves: str = ""  # what answer proves it and how strong that proof is, in the catalog's words
    labels_inferred: bool = False  # which label gates it is inference: `labels` are the candidates
    unverifiable_because: str | None = None  # why no safe probe exists
    declared: Declared = Declared.REQUIRED  # forbidden ones and (under policy.excess) undeclared ones too
    alternatives: bool = False  # one granted request suffices, unless another says missing


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
    route_miss: RouteMiss
    controls: tuple[ControlRequest, ...] = ()  # sent once, alongside the probes, when a rule needs them
    notes: tuple[str, ...] = ()  # what validate would also do or warn about (extra probes, versions)


def build_plan(spec: ConnectorSpec, catalog: Catalog) -> Plan:
    """The requests `validate` would send for `spec`, in the order of the file: the needed permissions,
    the forbidden ones, then under `policy.excess` warn or fail every other permission the catalog probes."""
    api_version = catalog.api_version_for(spec)
    targets = [(permission, Declared.REQUIRED) for permission in spec.permissions]
    targets += [(permission, Declared.FORBIDDEN) for permission in spec.policy.forbidden]
    if spec.policy.excess is not ExcessMode.OFF:
        known = {permission for permission, _ in targets}
        targets += [
            (permission, Declared.UNDECLARED)
            for permission, entry in catalog.permissions.items()
            if entry.probes and permission not in known
        ]
    planned: list[PlannedPermission] = []
    for permission, declared in targets:
        entry = catalog.probes_for(permission, api_version)
        labels = entry.labels if entry else ()
        probes = entry.probes if entry else ()
        planned.append(
            PlannedPermission(
                permission,
                labels,
                tuple(_request(probe, labels) for probe in probes),
                proves=entry.proves if entry else "",
                labels_inferred=bool(
                    entry and (entry.labels_inferred or any(p.labels_inferred for p in probes))
                ),
                unverifiable_because=entry.unverifiable_because if entry else None,
                alternatives=entry.alternatives if entry else False,
                declared=declared,
            )
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
        route_miss=catalog.route_miss,
        controls=catalog.controls_for([item.permission for item in planned], api_version),
        notes=_notes(spec, catalog, api_version),
    )


def _notes(spec: ConnectorSpec, catalog: Catalog, api_version: str) -> tuple[str, ...]:
    """What `validate` would also do for `spec`: the Read tickets probe, the unchecked-version warning."""
    notes: list[str] = []
    conversations = Permission(DataType.CONVERSATIONS, Access.READ)
    tickets = Permission(DataType.TICKETS, Access.READ)
    if (
        conversations in spec.permissions
        and tickets not in spec.permissions
        and tickets not in spec.policy.forbidden
    ):
        entry = catalog.probes_for(tickets, api_version)
        requests = ", ".join(f"{p.method} {p.target}" for p in (entry.probes if entry else ()))
        notes.append(
            "conversations: [read] is declared without tickets: [read]: validate also probes Read tickets "
            f"({requests}) in the same round, and warns (tickets_hidden_from_conversations, exit code "
            "unchanged) unless it is granted, since conversation lists and searches leave out every "
            "conversation that is a ticket without it"
        )
    if not catalog.is_checked(api_version):
        checked = " and ".join(catalog.checked_api_versions)
        notes.append(
            f"Intercom-Version {api_version} is not one the probes were checked against ({checked}): the "
            f"probes of {catalog.default_api_version} are sent with it, and validate warns "
            "(api_version_unchecked)"
        )
    return tuple(notes)


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
    """`404 → granted (inference): past the permission check: …`, as one line.

    A success grants only with the whole body in its documented shape, so the shape is named too.
    """
    condition = str(rule.status)
    if rule.codes:
        condition += " " + "/".join(rule.codes)
    if rule.message_contains:
        condition += f' with "{rule.message_contains}" in the message'
    if rule.body_type:
        condition += f" with a body of type {rule.body_type}"
    if rule.shape is not None:
        condition += f" in the documented shape {rule.shape.name}"
    if rule.route_miss_possible:
        condition += " unlike the route-miss control's answer"
    outcome = str(rule.verdict) + (f" ({rule.strength})" if rule.strength else "")
    return f"{condition} → {outcome}" + (f": {rule.note}" if rule.note else "")
