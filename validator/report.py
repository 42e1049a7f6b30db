"""The report: what a run found, per connector file, and the exit code it maps to.

Every output format is a pure function of a `Report`. Nothing secret ever enters these values: no token, no
header value, no customer data from response bodies; only statuses, error codes and request ids.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from validator.errors import ExitCode, most_severe
from validator.model import (
    Access,
    AuthMode,
    DataType,
    Declared,
    ExcessMode,
    Outcome,
    Permission,
    PermissionOutcome,
    Position,
    Region,
    Strength,
    TokenStatus,
    Verdict,
    WorkspaceStatus,
)

if TYPE_CHECKING:
    from validator.spec import SpecProblem


@dataclass(frozen=True)
class Evidence:
    """One request and the part of its answer a verdict rests on."""

    method: str
    path: str
    http_status: int | None
    error_code: str | None = None
    request_id: str | None = None
    strength: Strength | None = None  # None: the answer supports no verdict (inconclusive evidence)
    note: str | None = None  # what the answer meant, or why there was none ("timed out after 3 attempts")
    verdict: Verdict | None = None  # what this one answer said, when it backs a permission's verdict

    def describe(self) -> str:
        answer = str(self.http_status) if self.http_status is not None else "no answer"
        if self.error_code:
            answer += f" {self.error_code}"
        text = f"{self.method} {self.path} → {answer}"
        if self.strength is not None:
            text += f" ({self.strength})"
        return text


@dataclass(frozen=True)
class WaiverUse:
    """The waiver of a permission, as its result shows it: why, until when, where, and whether it applied."""

    reason: str
    expires: dt.date
    position: Position | None = None
    applied: bool = False  # it turned this permission's failure into `waived`
    expired: bool = False


@dataclass(frozen=True)
class PermissionResult:
    permission: Permission
    verdict: Verdict
    evidence: tuple[Evidence, ...] = ()
    labels: tuple[str, ...] = ()  # the Developer Hub permission(s) that grant it
    remediation: str | None = None
    position: Position | None = None  # where connector.yaml declares it (`permissions` for an undeclared one)
    labels_inferred: bool = False  # which of `labels` gates it is inference (API-NOTES §8): candidates
    elapsed: float | None = None  # seconds its probes took, first sent to last answered; None: none sent
    declared: Declared = Declared.REQUIRED
    outcome: PermissionOutcome = None  # type: ignore[assignment]  # None: what the verdict means if required
    note: str | None = None  # why the outcome, when the verdict alone does not say (policy, waiver, drift)
    waiver: WaiverUse | None = None

    def __post_init__(self) -> None:
        given: PermissionOutcome | None = self.outcome
        if given is None:
            object.__setattr__(self, "outcome", required_outcome(self.verdict))

    @property
    def data_type(self) -> DataType:
        return self.permission.data_type

    @property
    def access(self) -> Access:
        return self.permission.access


def required_outcome(verdict: Verdict) -> PermissionOutcome:
    """What a verdict means for a permission connector.yaml needs."""
    if verdict is Verdict.GRANTED:
        return PermissionOutcome.OK
    if verdict in (Verdict.MISSING, Verdict.PLAN_RESTRICTED):
        return PermissionOutcome.FAIL
    return PermissionOutcome.INCONCLUSIVE


@dataclass(frozen=True)
class Drift:
    """What changed since an earlier report (`validate --baseline`): permissions gained and lost.

    Only permissions with a definite verdict in both runs are compared (granted, or missing); `unknown`
    counts the permissions that were probed now but not decided in both.
    """

    baseline: str  # the baseline file, as given
    gained: tuple[Permission, ...] = ()
    lost: tuple[Permission, ...] = ()
    unknown: int = 0
    found: bool = True  # False: the baseline has no report of this connector


@dataclass(frozen=True)
class PolicyFailure:
    """A policy problem that is not one permission's verdict: an expired waiver. Fails the connector."""

    code: str  # stable snake_case: waiver_expired
    message: str
    permission: Permission | None = None
    position: Position | None = None


@dataclass(frozen=True)
class TokenCheck:
    status: TokenStatus
    error_code: str | None = None
    env: str | None = None  # the variable the token was read from (its name, never its value)
    evidence: tuple[Evidence, ...] = ()
    message: str | None = None
    elapsed: float | None = None  # seconds `GET /me` took; None: not sent


@dataclass(frozen=True)
class WorkspaceIdentity:
    """A workspace's id, name and region as reports show them.

    For the workspace `GET /me` named, the shown values are made safe to print (control and invisible
    characters replaced, long text cut), and `sent_*` keep the values exactly as Intercom sent them (only
    the token scrubbed out): the workspace check compares those, never the shown ones.
    """

    id: str | None
    name: str | None
    region: Region | str | None
    sent_id: str | None = None
    sent_name: str | None = None
    sent_region: str | None = None


@dataclass(frozen=True)
class WorkspaceCheck:
    status: WorkspaceStatus
    expected: WorkspaceIdentity
    actual: WorkspaceIdentity | None = None
    mismatches: tuple[str, ...] = ()  # "id", "region", "name"
    position: Position | None = None
    labels: tuple[str, ...] = ()  # unverified: the Developer Hub permission(s) that let the token read it
    remediation: str | None = None  # unverified: what to do so that it can be verified (`validator.advice`)


class NoticeLevel(StrEnum):
    """How loud a notice is; neither level changes the exit code."""

    WARNING = "warning"  # something the user should act on (data a connector will silently miss, ...)
    NOTE = "note"  # something worth knowing (a waiver that is no longer needed, ...)


@dataclass(frozen=True)
class Notice:
    """Something a run found that is worth telling but does not fail the check: never changes the exit code.

    `code` is stable (snake_case, e.g. `tickets_hidden_from_conversations`): tools filter on it, and reports
    name it as the kind of the warning (a SARIF rule id, a GitHub annotation title).
    """

    code: str
    message: str
    labels: tuple[str, ...] = ()  # the Developer Hub permission(s) concerned
    level: NoticeLevel = NoticeLevel.WARNING
    permission: Permission | None = None  # the permission it is about, when it is about one
    position: Position | None = None  # where connector.yaml says what it is about


@dataclass(frozen=True)
class ConnectorResult:
    """Everything found for one connector file."""

    path: str
    name: str | None
    auth_mode: AuthMode | None
    token: TokenCheck
    workspace: WorkspaceCheck | None
    permissions: tuple[PermissionResult, ...] = ()
    error: str | None = None  # a connector.yaml or usage error that stopped the check
    error_position: Position | None = None
    # Every problem of an invalid connector.yaml, as `lint` reports them (`error` is the first one).
    problems: tuple[SpecProblem, ...] = ()
    # Declared permissions no request was sent for: the token was rejected, or missing or malformed.
    not_checked: tuple[Permission, ...] = ()
    elapsed: float | None = None  # seconds from reading connector.yaml to the last answer
    auth_position: Position | None = None
    api_version: str | None = None
    where_to_fix: str | None = None  # where permissions are changed (Developer Hub → …)
    after_change: str | None = None  # what must happen after changing them, for this auth mode
    warnings: tuple[Notice, ...] = ()  # never change the exit code
    excess: ExcessMode = ExcessMode.OFF  # `policy.excess` as applied (after `--excess`)
    policy_failures: tuple[PolicyFailure, ...] = ()  # each fails the connector (exit 1)
    drift: Drift | None = None  # with `--baseline`

    @property
    def exit_code(self) -> ExitCode:
        if self.error is not None or self.token.status.stops_the_check:
            return ExitCode.USAGE
        if self.token.status is TokenStatus.REJECTED:
            return ExitCode.TOKEN_REJECTED
        # An unverified workspace fails like a mismatch: a token of another workspace cannot be ruled out,
        # and one ticked label ("Read admins") fixes it.
        failed_workspace = {WorkspaceStatus.MISMATCH, WorkspaceStatus.UNVERIFIED}
        if (
            (self.workspace is not None and self.workspace.status in failed_workspace)
            or any(result.outcome is PermissionOutcome.FAIL for result in self.permissions)
            or self.policy_failures
        ):
            return ExitCode.FAILED
        if (
            self.token.status is TokenStatus.UNKNOWN
            or self.workspace is None
            or self.workspace.status is WorkspaceStatus.UNKNOWN
            or any(result.outcome is PermissionOutcome.INCONCLUSIVE for result in self.permissions)
        ):
            return ExitCode.INCONCLUSIVE
        return ExitCode.OK

    @property
    def outcome(self) -> Outcome:
        return _OUTCOME_OF_EXIT[self.exit_code]


_OUTCOME_OF_EXIT = {
    ExitCode.OK: Outcome.PASS,
    ExitCode.FAILED: Outcome.FAIL,
    ExitCode.USAGE: Outcome.ERROR,
    ExitCode.TOKEN_REJECTED: Outcome.FAIL,
    ExitCode.INCONCLUSIVE: Outcome.INCONCLUSIVE,
}


@dataclass(frozen=True)
class Report:
    tool_version: str
    connectors: tuple[ConnectorResult, ...] = field(default_factory=tuple)

    @property
    def exit_code(self) -> ExitCode:
        return most_severe([connector.exit_code for connector in self.connectors])

    @property
    def outcome(self) -> Outcome:
        return _OUTCOME_OF_EXIT[self.exit_code]
