"""The kinds of finding every CI format shares, and the findings of a report.

A *finding* is one check that did not pass: a permission not granted, a workspace mismatch, a token problem,
a connector.yaml that could not be read. SARIF calls finding kinds rules; JUnit, GitHub annotations and
Markdown read the same findings, which keeps their wording, levels and positions in step; the words of each
kind (title, description, help) are the catalog's, so a report's "To fix" and a SARIF rule's help agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

from validator import advice
from validator.advice import PERMISSION_FINDINGS, plain, quote_labels
from validator.catalog import FindingKind, FindingText, load_catalog
from validator.model import Declared, PermissionOutcome, Position, TokenStatus, Verdict, WorkspaceStatus
from validator.report import (
    ConnectorResult,
    Drift,
    Evidence,
    Notice,
    NoticeLevel,
    PermissionResult,
    PolicyFailure,
    Report,
    WorkspaceIdentity,
)

if TYPE_CHECKING:
    from validator.spec import SpecProblem

# Named and versioned so that a change of what identifies a finding can be told apart from a new finding.
FINGERPRINT_KEY = "connectorValidatorFinding/v1"


class Severity(StrEnum):
    """What a finding does to the run, in the terms of its exit code."""

    FAILED = "failed"  # exit 1 or 3: the token lacks something the connector needs
    STOPPED = "stopped"  # exit 2: the check could not start (connector.yaml error, token variable unset)
    UNDECIDED = "undecided"  # exit 4: no verdict could be reached
    ADVISORY = "advisory"  # a warning or note (`Notice`): the exit code does not change
    WAIVED = "waived"  # a failure a waiver in force accepts: reported, never failing


@dataclass(frozen=True)
class Rule:
    """A kind of finding as CI formats show it; its words are the catalog's (`remediation.findings`)."""

    kind: FindingKind
    name: str  # PascalCase, as SARIF viewers expect of `reportingDescriptor.name`
    severity: Severity

    @property
    def id(self) -> str:
        return str(self.kind)

    @property
    def title(self) -> str:
        return _wording(self.kind).title

    @property
    def description(self) -> str:
        """Markdown; its plain form (`advice.plain`) drops the backticks."""
        return _wording(self.kind).description

    @property
    def help(self) -> str:
        """Markdown, said of every finding of this kind; `help_text` is its plain form."""
        return _wording(self.kind).help

    @property
    def help_text(self) -> str:
        return plain(self.help)

    @property
    def level(self) -> str:
        if self.severity is Severity.WAIVED:
            return "note"
        return "warning" if self.severity is Severity.UNDECIDED else "error"


@cache
def _wording(kind: FindingKind) -> FindingText:
    """Loaded on first use, so that a format that names no finding does not read the catalog."""
    return advice.wording(load_catalog(), kind)


def identity_request() -> str:
    """`GET /me`, from the catalog's identity entry."""
    return advice.identity_request(load_catalog())


def identity_rejected() -> str:
    """`GET /me → 401`: what a rejected token is answered, from the catalog's identity entry."""
    return f"{identity_request()} → {load_catalog().identity.rejected_status}"


PERMISSION_MISSING = Rule(FindingKind.PERMISSION_MISSING, "PermissionMissing", Severity.FAILED)
PERMISSION_PLAN_RESTRICTED = Rule(
    FindingKind.PERMISSION_PLAN_RESTRICTED, "PermissionPlanRestricted", Severity.FAILED
)
PERMISSION_INCONCLUSIVE = Rule(
    FindingKind.PERMISSION_INCONCLUSIVE, "PermissionInconclusive", Severity.UNDECIDED
)
PERMISSION_UNVERIFIABLE = Rule(
    FindingKind.PERMISSION_UNVERIFIABLE, "PermissionUnverifiable", Severity.UNDECIDED
)
WORKSPACE_MISMATCH = Rule(FindingKind.WORKSPACE_MISMATCH, "WorkspaceMismatch", Severity.FAILED)
WORKSPACE_UNVERIFIED = Rule(FindingKind.WORKSPACE_UNVERIFIED, "WorkspaceUnverified", Severity.FAILED)
WORKSPACE_UNCHECKED = Rule(FindingKind.WORKSPACE_UNCHECKED, "WorkspaceInconclusive", Severity.UNDECIDED)
TOKEN_REJECTED = Rule(FindingKind.TOKEN_REJECTED, "TokenRejected", Severity.FAILED)
TOKEN_INCONCLUSIVE = Rule(FindingKind.TOKEN_INCONCLUSIVE, "TokenInconclusive", Severity.UNDECIDED)
TOKEN_MISSING = Rule(FindingKind.TOKEN_MISSING, "TokenMissing", Severity.STOPPED)
CONNECTOR_INVALID = Rule(FindingKind.CONNECTOR_INVALID, "ConnectorInvalid", Severity.STOPPED)
FORBIDDEN_GRANTED = Rule(FindingKind.FORBIDDEN_GRANTED, "ForbiddenPermissionGranted", Severity.FAILED)
EXCESS_GRANTED = Rule(FindingKind.EXCESS_GRANTED, "ExcessPermissionGranted", Severity.FAILED)
PERMISSION_WAIVED = Rule(FindingKind.PERMISSION_WAIVED, "PermissionWaived", Severity.WAIVED)
WAIVER_EXPIRED = Rule(FindingKind.WAIVER_EXPIRED, "WaiverExpired", Severity.FAILED)

RULES: tuple[Rule, ...] = (
    PERMISSION_MISSING,
    PERMISSION_PLAN_RESTRICTED,
    PERMISSION_INCONCLUSIVE,
    PERMISSION_UNVERIFIABLE,
    WORKSPACE_MISMATCH,
    WORKSPACE_UNVERIFIED,
    WORKSPACE_UNCHECKED,
    TOKEN_REJECTED,
    TOKEN_INCONCLUSIVE,
    TOKEN_MISSING,
    CONNECTOR_INVALID,
    FORBIDDEN_GRANTED,
    EXCESS_GRANTED,
    PERMISSION_WAIVED,
    WAIVER_EXPIRED,
)


@dataclass(frozen=True)
class NoticeRule:
    """The kind of a `Notice` as CI formats show it: one per notice code, named after the code.

    Unlike `Rule`, its words do not come from the catalog: a notice carries its own message, and the code
    says what kind it is (`tickets_hidden_from_conversations` → "Tickets hidden from conversations").
    """

    code: str
    notice_level: NoticeLevel = NoticeLevel.WARNING
    severity: Severity = Severity.ADVISORY

    @property
    def id(self) -> str:
        return self.code.replace("_", "-")

    @property
    def name(self) -> str:
        return "".join(part.capitalize() for part in self.code.split("_"))

    @property
    def title(self) -> str:
        return self.code.replace("_", " ").capitalize()

    @property
    def description(self) -> str:
        kind = "A warning" if self.notice_level is NoticeLevel.WARNING else "A note"
        return f"{kind} of connector-validator (`{self.code}`); it does not change the exit code."

    @property
    def help(self) -> str:
        return "The message says what was found and what to do about it."

    @property
    def help_text(self) -> str:
        return plain(self.help)

    @property
    def level(self) -> str:
        """SARIF's level: `warning` or `note`."""
        return str(self.notice_level)


AnyRule = Rule | NoticeRule

_RULE_OF_KIND = {rule.kind: rule for rule in RULES}
_PERMISSION_RULES = {verdict: _RULE_OF_KIND[kind] for verdict, kind in PERMISSION_FINDINGS.items()}

_VERDICT_MEANING = {
    Verdict.MISSING: "is missing: Intercom refused the request that needs it",
    Verdict.PLAN_RESTRICTED: "is restricted by the workspace's Intercom plan",
    Verdict.INCONCLUSIVE: "is inconclusive: no trustworthy answer was received",
    Verdict.UNVERIFIABLE: "is unverifiable: no request proves it without side effects",
}

# Subjects of the checks that are not permissions; permissions use `people:write` and the like.
TOKEN_SUBJECT = "token"
WORKSPACE_SUBJECT = "workspace"
CONNECTOR_SUBJECT = "connector.yaml"


@dataclass(frozen=True)
class Finding:
    """One check that did not pass, with everything a CI format shows about it."""

    rule: AnyRule
    path: str  # the connector file, as the report names it
    subject: str  # which check: `people:write`, `workspace`, `token` or `connector.yaml`
    position: Position | None
    summary: str  # one sentence
    details: tuple[str, ...] = ()  # verdict, evidence, Developer Hub labels, remediation: one line each
    problem: SpecProblem | None = None  # a connector.yaml problem; its subject is then its JSON path

    @property
    def title(self) -> str:
        """The rule's title, and for a permission which one (the other subjects repeat the title)."""
        if self.problem is not None or self.subject in (TOKEN_SUBJECT, WORKSPACE_SUBJECT, CONNECTOR_SUBJECT):
            return self.rule.title
        if isinstance(self.rule, NoticeRule):
            _, _, about = self.subject.partition(":")
            return self.rule.title if about == CONNECTOR_SUBJECT else f"{self.rule.title}: {about}"
        return f"{self.rule.title}: {self.subject}"

    @property
    def text(self) -> str:
        return "\n".join((self.summary, *self.details))

    @property
    def fingerprint(self) -> str:
        """Stable across runs and line moves: what is wrong with which declaration, not where it sits."""
        if self.problem is not None:
            return problem_fingerprint(self.problem)
        identity = "\0".join((normalized_path(self.path), self.subject, self.rule.id))
        return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]


def findings(report: Report) -> list[Finding]:
    """Every check that did not pass, then every notice, connector by connector."""
    return [
        finding
        for connector in report.connectors
        for finding in (*connector_findings(connector), *notice_findings(connector))
    ]


def notice_findings(connector: ConnectorResult) -> list[Finding]:
    """The connector's warnings and notes, as findings that do not change the exit code."""
    return [notice_finding(connector, notice) for notice in connector.warnings]


def notice_finding(connector: ConnectorResult, notice: Notice) -> Finding:
    details = []
    if notice.labels:
        details.append(f"Developer Hub permission: {quote_labels(notice.labels)}")
    subject = str(notice.permission) if notice.permission is not None else CONNECTOR_SUBJECT
    return Finding(
        NoticeRule(notice.code, notice.level),
        connector.path,
        f"{notice.code}:{subject}",
        notice.position or (connector.auth_position if notice.permission is None else None),
        notice.message,
        tuple(details),
    )


def connector_findings(connector: ConnectorResult) -> list[Finding]:
    """The connector's findings in the order of its checks: token, workspace, permissions as declared."""
    if connector.problems:
        return [
            Finding(
                CONNECTOR_INVALID,
                connector.path,
                problem.json_path,
                problem.position,
                lint_text(problem),  # the place is the finding's position: not repeated in its text
                problem=problem,
            )
            for problem in connector.problems
        ]
    if connector.error is not None:
        return [
            Finding(
                CONNECTOR_INVALID,
                connector.path,
                CONNECTOR_SUBJECT,
                connector.error_position,
                connector.error.removeprefix(f"{connector.path}: "),  # the file is the finding's path
            )
        ]
    found = [token] if (token := token_finding(connector)) else []
    if connector.token.status.stops_the_check:
        return found  # the check stopped before the workspace and the permissions
    workspace = workspace_finding(connector)
    if workspace is not None:
        found.append(workspace)
    found.extend(
        finding for result in connector.permissions if (finding := permission_finding(connector, result))
    )
    found.extend(policy_failure_finding(connector, failure) for failure in connector.policy_failures)
    return found


def has_policy(connector: ConnectorResult) -> bool:
    """Whether the connector's results say more than "needed, and granted or not": a policy applies."""
    return bool(connector.policy_failures) or any(
        result.declared is not Declared.REQUIRED or result.outcome is PermissionOutcome.WAIVED
        for result in connector.permissions
    )


def policy_findings(connector: ConnectorResult) -> list[Finding]:
    """The findings of the policy: forbidden and undeclared permissions, waived ones, expired waivers."""
    found = [
        finding
        for result in connector.permissions
        if (result.declared is not Declared.REQUIRED or result.outcome is PermissionOutcome.WAIVED)
        and (finding := permission_finding(connector, result)) is not None
    ]
    return found + [policy_failure_finding(connector, failure) for failure in connector.policy_failures]


def labels_to_untick(connector: ConnectorResult) -> list[str]:
    """The Developer Hub labels behind forbidden or excess grants that fail the connector, once each."""
    labels: list[str] = []
    for result in connector.permissions:
        granted = advice.finding_kind(result) in (FindingKind.FORBIDDEN_GRANTED, FindingKind.EXCESS_GRANTED)
        if granted and result.outcome is PermissionOutcome.FAIL:
            labels.extend(label for label in result.labels if label not in labels)
    return labels


def describe_drift(drift: Drift) -> str:
    if not drift.found:
        return f"{drift.baseline} has no report of this connector"
    gained = ", ".join(str(permission) for permission in drift.gained) or "none"
    lost = ", ".join(str(permission) for permission in drift.lost) or "none"
    return f"since {drift.baseline}: gained {gained}; lost {lost} ({drift.unknown} not compared)"


def waiver_subject(failure: PolicyFailure) -> str:
    return f"waiver for {failure.permission}" if failure.permission else "policy.waivers"


def policy_failure_finding(connector: ConnectorResult, failure: PolicyFailure) -> Finding:
    """A policy problem that is not one permission's verdict (an expired waiver), at its line."""
    return Finding(
        WAIVER_EXPIRED,
        connector.path,
        waiver_subject(failure),
        failure.position,
        failure.message[:1].upper() + failure.message[1:] + ".",
        (f"To fix: {WAIVER_EXPIRED.help_text}",),
    )


def token_finding(connector: ConnectorResult) -> Finding | None:
    token = connector.token
    source = f" from {token.env}" if token.env else ""
    if token.status.stops_the_check:
        summary = token.message or f"No token was found{source}."
        return Finding(TOKEN_MISSING, connector.path, TOKEN_SUBJECT, connector.auth_position, summary)
    if token.status is TokenStatus.REJECTED:
        code = f" ({token.error_code})" if token.error_code else ""
        summary = f"Intercom rejected the token{source}{code}; no permission was checked."
        if token.message:  # refused by a probe after a /me that could not name the workspace
            summary = (
                f"Intercom rejected the token{source}{code}: {token.message}; no permission is reported."
            )
        return Finding(
            TOKEN_REJECTED,
            connector.path,
            TOKEN_SUBJECT,
            connector.auth_position,
            summary,
            (*_evidence_lines(token.evidence), f"To fix: {TOKEN_REJECTED.help_text}"),
        )
    if token.status is TokenStatus.UNKNOWN:
        reason = token.message or f"{identity_request()} gave no trustworthy answer"
        return Finding(
            TOKEN_INCONCLUSIVE,
            connector.path,
            TOKEN_SUBJECT,
            connector.auth_position,
            f"The token{source} could not be checked: {reason}.",
            _evidence_lines(token.evidence),
        )
    return None


def workspace_finding(connector: ConnectorResult) -> Finding | None:
    check = connector.workspace
    if check is None:
        # A rejected token stops the run before the workspace is read; that finding says enough.
        if connector.token.status is TokenStatus.REJECTED:
            return None
        return Finding(
            WORKSPACE_UNCHECKED,
            connector.path,
            WORKSPACE_SUBJECT,
            connector.auth_position,
            "The workspace was not checked.",
        )
    if check.status is WorkspaceStatus.MISMATCH:
        return Finding(
            WORKSPACE_MISMATCH,
            connector.path,
            WORKSPACE_SUBJECT,
            check.position,
            f"The token belongs to workspace {describe_identity(check.actual)}, but connector.yaml declares "
            f"{describe_identity(check.expected)} (mismatch in {', '.join(check.mismatches)}).",
            (f"To fix: {WORKSPACE_MISMATCH.help_text}",),
        )
    if check.status is WorkspaceStatus.UNVERIFIED:
        labels = quote_labels(check.labels)
        details = [*_evidence_lines(connector.token.evidence)]
        if check.labels:
            details.append(f"Developer Hub permission: {labels}")
        details.append(f"To fix: {check.remediation or WORKSPACE_UNVERIFIED.help_text}")
        return Finding(
            WORKSPACE_UNVERIFIED,
            connector.path,
            WORKSPACE_SUBJECT,
            check.position,
            f"The workspace could not be verified (declared {describe_identity(check.expected)}): the token "
            f"is valid but may not read {identity_request()}, which names its workspace.",
            tuple(details),
        )
    if check.status is WorkspaceStatus.UNKNOWN:
        return Finding(
            WORKSPACE_UNCHECKED,
            connector.path,
            WORKSPACE_SUBJECT,
            check.position,
            f"The workspace could not be checked (declared {describe_identity(check.expected)}).",
        )
    return None


def permission_finding(connector: ConnectorResult, result: PermissionResult) -> Finding | None:
    """The finding of one permission, for how it is declared and its outcome; None when it passed or when
    a notice says it (an excess grant under `excess: warn`)."""
    if result.outcome in (PermissionOutcome.OK, PermissionOutcome.WARN):
        return None
    kind = advice.finding_kind(result)
    if kind is None:
        return None
    summary = _summary(result)
    rule = _RULE_OF_KIND[kind]
    position = result.position
    if result.outcome is PermissionOutcome.WAIVED:
        rule = PERMISSION_WAIVED
        waiver = result.waiver
        if waiver is not None:
            summary += f" Waived until {waiver.expires.isoformat()}: {waiver.reason}."
            position = waiver.position or position  # the waiver is what accepts it
    details = [f"Verdict: {result.verdict}", *_evidence_lines(result.evidence)]
    if result.declared is not Declared.REQUIRED:
        details.insert(0, f"Declared: {result.declared} ({_DECLARED_WHERE[result.declared]})")
    if result.labels:
        details.append(f"Developer Hub permission: {quote_labels(result.labels)}")
    if result.remediation:
        details.append(f"To fix: {result.remediation}")
    return Finding(rule, connector.path, str(result.permission), position, summary, tuple(details))


_DECLARED_WHERE = {
    Declared.REQUIRED: "permissions",
    Declared.FORBIDDEN: "policy.forbidden",
    Declared.UNDECLARED: "not in connector.yaml; probed for policy.excess",
}


def _summary(result: PermissionResult) -> str:
    if result.declared is Declared.REQUIRED:
        return f"{result.permission} {_VERDICT_MEANING[result.verdict]}."
    granted = result.verdict is Verdict.GRANTED or any(e.verdict is Verdict.GRANTED for e in result.evidence)
    why = f" ({result.note})" if result.note and not result.note.startswith("waived") else ""
    if result.declared is Declared.FORBIDDEN:
        if granted:
            return f"{result.permission} is forbidden (policy.forbidden) but the token has it{why}."
        return f"{result.permission} is forbidden (policy.forbidden) and could not be proven absent{why}."
    if granted:
        return f"{result.permission} is granted but connector.yaml does not declare it (excess){why}."
    return f"{result.permission} is not declared, and whether the token has it is not known{why}."


def describe_evidence(evidence: Evidence) -> str:
    text = evidence.describe()
    if evidence.request_id:
        text += f" [request {evidence.request_id}]"
    if evidence.note:
        text += f": {evidence.note}"
    return text


def _evidence_lines(evidence: Sequence[Evidence]) -> tuple[str, ...]:
    if not evidence:
        return ("Evidence: none (no request was sent, or none was answered)",)
    return tuple(f"Evidence: {describe_evidence(item)}" for item in evidence)


def describe_identity(identity: WorkspaceIdentity | None) -> str:
    if identity is None:
        return "unknown"
    name = f' "{identity.name}"' if identity.name else ""
    region = str(identity.region).lower() if identity.region is not None else "unknown region"
    return f"{identity.id or 'unknown'}{name} ({region})"


def normalized_path(path: str) -> str:
    """The path with forward slashes and without a leading `./`, as code scanning expects."""
    if PureWindowsPath(path).drive:
        return PureWindowsPath(path).as_posix()
    return PurePosixPath(path.replace("\\", "/")).as_posix()


def lint_text(problem: SpecProblem) -> str:
    """A problem `lint` found, as CI formats show it: its message and the JSON path of the value."""
    return f"{problem.message} ({problem.json_path})"


def problem_fingerprint(problem: SpecProblem) -> str:
    """The same for a connector.yaml problem whether `lint` or `validate` reports it.

    The JSON path says which value is wrong, and unlike the line it survives edits elsewhere in the file.
    """
    where = "\0".join((normalized_path(problem.file), problem.json_path, problem.message))
    return hashlib.sha256(where.encode("utf-8")).hexdigest()[:32]
