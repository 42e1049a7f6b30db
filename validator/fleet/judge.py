"""One install's check, read as what the vendor must do about it: an outcome, an action, the labels to tick.

The check itself is `validate`'s (`Checker.check` on the connector's spec with the install's workspace);
this module only reads its `ConnectorResult`, most severe first:

| what the check found                              | outcome      | action            | exit code |
|---------------------------------------------------|--------------|-------------------|-----------|
| `/me` names another workspace id                  | fail         | `wrong_workspace` | 20        |
| a line that is not an install                     | error        | `fix_input`       | 2         |
| `/me` answered 401                                | fail         | `token_rejected`  | 3         |
| `/me` names another region than the line gives    | fail         | `fix_input`       | 1         |
| the token may not read `/me` (workspace unverified)| fail         | `reauthorize`     | 1         |
| a declared permission missing                     | fail         | `reauthorize`     | 1         |
| a declared permission not in the workspace's plan | fail         | `none`            | 1         |
| no trustworthy answer (network, 5xx, unexplained) | inconclusive | `retry`           | 4         |
| every declared permission granted                 | pass         | `none`            | 0         |

A plan restriction is a failure no one at the vendor can fix by asking again (the customer's plan lacks
the data type), so its action is `none`, its `reason` says so, and it is not counted as missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from validator.errors import ExitCode
from validator.fleet.installs import Install, Malformed, shown
from validator.model import (
    Declared,
    Outcome,
    PermissionOutcome,
    Region,
    TokenStatus,
    Verdict,
    WorkspaceStatus,
)
from validator.report import ConnectorResult, PermissionResult
from validator.tokens import MIN_TOKEN_LENGTH, token_problem


class Action(StrEnum):
    NONE = "none"
    REAUTHORIZE = "reauthorize"  # a workspace admin must authorize the app again, with the labels ticked
    WRONG_WORKSPACE = "wrong_workspace"  # the stored token belongs to another customer's workspace
    TOKEN_REJECTED = "token_rejected"  # revoked or unknown: the install must be authorized anew
    RETRY = "retry"  # nothing decided (network, server errors): run again for these installs
    FIX_INPUT = "fix_input"  # the line (or its region) is wrong in the vendor's own records


@dataclass(frozen=True)
class InstallResult:
    """What is written for one install: never the token, only its fingerprint."""

    line: int
    label: str | None
    workspace_id: str | None
    region: str | None
    token_fingerprint: str | None
    outcome: Outcome
    action: Action
    exit_code: ExitCode
    reason: str
    missing: tuple[str, ...] = ()  # Developer Hub labels to tick before the admin authorizes again
    found_workspace_id: str | None = None  # the workspace /me named, when it is not the one given

    @property
    def needs_action(self) -> bool:
        return self.action is not Action.NONE or self.outcome is not Outcome.PASS

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "label": self.label,
            "workspace_id": self.workspace_id,
            "region": self.region,
            "token_fingerprint": self.token_fingerprint,
            "outcome": str(self.outcome),
            "action": str(self.action),
            "missing": list(self.missing),
            "reason": self.reason,
            "found_workspace_id": self.found_workspace_id,
        }


def malformed(line: Malformed) -> InstallResult:
    return InstallResult(
        line=line.line,
        label=line.label,
        workspace_id=line.workspace_id,
        region=None,
        token_fingerprint=line.token_fingerprint,
        outcome=Outcome.ERROR,
        action=Action.FIX_INPUT,
        exit_code=ExitCode.USAGE,
        reason=f"skipped: {line.problem}",
    )


def judge(install: Install, region: str, result: ConnectorResult) -> InstallResult:
    """Read `result`, the check of `install` (whose workspace region is `region`), as an InstallResult."""

    def made(
        outcome: Outcome,
        action: Action,
        code: ExitCode,
        reason: str,
        missing: tuple[str, ...] = (),
        found: str | None = None,
    ) -> InstallResult:
        return InstallResult(
            line=install.line,
            label=install.label,
            workspace_id=shown(install.workspace_id),
            region=region,
            token_fingerprint=install.token_fingerprint,
            outcome=outcome,
            action=action,
            exit_code=code,
            reason=reason,
            missing=missing,
            found_workspace_id=found,
        )

    workspace = result.workspace
    if (
        workspace is not None
        and workspace.status is WorkspaceStatus.MISMATCH
        and workspace.actual is not None
    ):
        found = workspace.actual.id
        if "id" in workspace.mismatches:
            # Only this install's token is scrubbed from its line (memory stays flat): an id long enough, or
            # of a token's shape (Intercom ids are about 8 characters), could be another install's token.
            hidden = found is not None and _could_hold_a_token(found)
            named = (
                f"another workspace (its id, {len(found or '')} characters, could hold a token: not shown)"
                if hidden
                else f"workspace {found}"
            )
            return made(
                Outcome.FAIL,
                Action.WRONG_WORKSPACE,
                ExitCode.WRONG_WORKSPACE,
                f"the token belongs to {named}, not {shown(install.workspace_id)}: never use it "
                "for this install",
                found=None if hidden else found,
            )
    if result.token.status.stops_the_check or result.error is not None:
        return made(
            Outcome.ERROR, Action.FIX_INPUT, ExitCode.USAGE, result.error or "the token is not usable"
        )
    if result.token.status is TokenStatus.REJECTED:
        code = result.token.error_code or "unauthorized"
        return made(
            Outcome.FAIL,
            Action.TOKEN_REJECTED,
            ExitCode.TOKEN_REJECTED,
            f"Intercom rejected the token ({_rejection(result, code)}): the app must be installed again",
        )
    if (
        workspace is not None
        and workspace.status is WorkspaceStatus.MISMATCH
        and workspace.actual is not None
    ):
        return made(
            Outcome.FAIL,
            Action.FIX_INPUT,
            ExitCode.FAILED,
            f"GET /me names region {_region_shown(workspace.actual.region)}, not {region}: correct the "
            "install's region",
        )
    needed = [item for item in result.permissions if item.declared is Declared.REQUIRED]
    failing = [item for item in needed if item.outcome is PermissionOutcome.FAIL]
    missing = [item for item in failing if item.verdict is Verdict.MISSING]
    if workspace is not None and workspace.status is WorkspaceStatus.UNVERIFIED:
        # A valid token that may not read /me: which workspace it belongs to is not known, so it must not
        # pass (it could be another customer's). The admin must authorize again with the label /me needs.
        labels = tuple(dict.fromkeys((*workspace.labels, *_labels(missing))))
        return made(
            Outcome.FAIL,
            Action.REAUTHORIZE,
            ExitCode.FAILED,
            "the token may not read GET /me, so its workspace cannot be verified (it could be another "
            "customer's): tick the labels in Developer Hub, then have a workspace admin authorize the app "
            "again",
            missing=labels,
        )
    if workspace is None or workspace.status is WorkspaceStatus.UNKNOWN:
        why = result.token.message or "GET /me gave no usable answer"
        return made(Outcome.INCONCLUSIVE, Action.RETRY, ExitCode.INCONCLUSIVE, f"{why}; try again later")
    if missing:
        labels = _labels(missing)
        names = ", ".join(str(item.permission) for item in missing)
        return made(
            Outcome.FAIL,
            Action.REAUTHORIZE,
            ExitCode.FAILED,
            f"lacks {names}: tick the labels in Developer Hub, then have a workspace admin authorize the app "
            "again",
            missing=labels,
        )
    # The policy's failures: a forbidden or (under `excess: fail`) undeclared permission granted. The app
    # must ask for less, and the install's admin authorize it again to drop the grant from its token.
    too_much = [
        item
        for item in result.permissions
        if item.declared is not Declared.REQUIRED and item.outcome is PermissionOutcome.FAIL
    ]
    if too_much:
        names = ", ".join(f"{item.permission} ({item.declared})" for item in too_much)
        untick = ", ".join(f'"{label}"' for label in _labels(too_much))
        return made(
            Outcome.FAIL,
            Action.REAUTHORIZE,
            ExitCode.FAILED,
            f"has {names}, which connector.yaml's policy does not allow: untick {untick} in Developer Hub, "
            "then have a workspace admin authorize the app again",
        )
    if result.policy_failures:
        said = "; ".join(failure.message for failure in result.policy_failures)
        return made(Outcome.FAIL, Action.NONE, ExitCode.FAILED, f"connector.yaml's policy fails: {said}")
    restricted = [item for item in failing if item.verdict is Verdict.PLAN_RESTRICTED]
    if restricted:
        names = ", ".join(str(item.permission) for item in restricted)
        return made(
            Outcome.FAIL,
            Action.NONE,
            ExitCode.FAILED,
            f"the workspace's plan does not include {names} (the customer's subscription, not the token)",
        )
    undecided = [item for item in result.permissions if item.outcome is PermissionOutcome.INCONCLUSIVE]
    if undecided:
        names = ", ".join(str(item.permission) for item in undecided)
        # Some answer was not understood (a 5xx, no answer), even where another probe of the same permission
        # was: a forbidden permission refused by one probe and unanswered by another is undecided too.
        retry = any(
            item.verdict is Verdict.INCONCLUSIVE or any(e.strength is None for e in item.evidence)
            for item in undecided
        )
        return made(
            Outcome.INCONCLUSIVE,
            Action.RETRY if retry else Action.NONE,
            ExitCode.INCONCLUSIVE,
            f"no verdict for {names}" + ("; try again later" if retry else " (no probe can decide it)"),
        )
    return made(Outcome.PASS, Action.NONE, ExitCode.OK, "every declared permission is granted")


def _could_hold_a_token(text: str) -> bool:
    """Whether text from GET /me (a workspace id) is too long, or of a token's shape, to be shown in a line
    scrubbed of its own install's token only: Intercom ids are about 8 characters."""
    return len(text) > MIN_TOKEN_LENGTH or text.endswith("…") or token_problem(text) is None


def _region_shown(region: object) -> str:
    """A region /me named: a known one as is; other text only when too short to hold a piece of a token."""
    text = str(region)
    if isinstance(region, Region) or len(text) < 12:
        return text
    return f"({len(text)} characters, none of {', '.join(Region)}: not shown)"


def _rejection(result: ConnectorResult, code: str) -> str:
    """Which answer rejected the token: GET /me's, or (where /me was refused to a valid token) a probe's."""
    refused = result.token.evidence[-1] if result.token.evidence else None
    if refused is None or refused.http_status is None:
        return f"answered 401 {code}"
    return f"{refused.method} {refused.path} answered {refused.http_status} {refused.error_code or code}"


def _labels(results: list[PermissionResult]) -> tuple[str, ...]:
    labels: list[str] = []
    for item in results:
        labels.extend(label for label in item.labels if label not in labels)
    return tuple(labels)
