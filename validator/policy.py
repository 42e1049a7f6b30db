"""The least-privilege policy applied to a checked connector: forbidden, excess, waivers, drift.

The checker only says what each probe proved (verdicts and evidence); `judge` says what that means for the
connector, as each permission's `outcome`, the notices (warnings and notes) and the policy failures:

- a needed permission is `ok` when granted, `fail` when missing or plan-restricted, else `inconclusive`;
- a forbidden permission is `ok` only on proof of absence (a `missing` verdict resting on the catalog's
  proof evidence, and no probe of it granted); a grant, proven or inferred, even of one of its probes, is
  `fail`; anything else (no trustworthy answer, a plan restriction, no safe probe) is `inconclusive`: a
  plan restriction hides whether the token has the permission, so it proves nothing either way;
- an undeclared permission (probed under `excess` warn or fail, or for `--baseline`) that is granted is
  excess (`warn` or `fail` as `excess` says), unless every Developer Hub label that grants it is one a
  needed permission needs too: unticking it would break the connector, so it is `ok` with a note;
- a waiver in force turns its permission's `fail` (or `warn`) into `waived`; an expired waiver fails the
  connector whatever its permission's outcome; one that expires soon gives a warning, and one whose problem
  is gone gives a note to remove it;
- with a baseline, a gained permission the connector does not declare is always at least a warning.

No false pass in either direction: nothing here turns an undecided verdict into `ok`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from validator.advice import advise
from validator.baseline import Baseline
from validator.catalog import Catalog
from validator.model import (
    ConnectorSpec,
    Declared,
    ExcessMode,
    Permission,
    PermissionOutcome,
    Strength,
    Verdict,
    Waiver,
)
from validator.report import (
    ConnectorResult,
    Drift,
    Notice,
    NoticeLevel,
    PermissionResult,
    PolicyFailure,
    WaiverUse,
    required_outcome,
)

DEFAULT_EXPIRY_WARNING_DAYS = 14

# Notice and failure codes (stable: tools filter on them).
EXCESS_GRANTED = "excess_permission"
EXCESS_UNDECIDED = "excess_undecided"
WAIVER_EXPIRED = "waiver_expired"
WAIVER_EXPIRING = "waiver_expiring"
WAIVER_UNNEEDED = "waiver_unneeded"
PERMISSION_GAINED = "permission_gained"
PERMISSION_LOST = "permission_lost"
BASELINE_UNMATCHED = "baseline_connector_not_found"
BASELINE_INCOMPLETE = "baseline_incomplete"


@dataclass(frozen=True)
class PolicySettings:
    """What the command line adds to connector.yaml's policy, and the date it is judged on."""

    today: dt.date
    excess: ExcessMode | None = None  # `--excess`: replaces `policy.excess` of every file
    expiry_warning_days: int = DEFAULT_EXPIRY_WARNING_DAYS
    baseline: Baseline | None = None

    @property
    def survey(self) -> bool:
        """Probe every permission, whatever `excess` says: a baseline compares them all."""
        return self.baseline is not None


def effective_spec(spec: ConnectorSpec, settings: PolicySettings) -> ConnectorSpec:
    """`spec` with `--excess` applied, so that the checker probes what the run will judge."""
    if settings.excess is None or settings.excess is spec.policy.excess:
        return spec
    return replace(spec, policy=replace(spec.policy, excess=settings.excess))


def judge(
    result: ConnectorResult, spec: ConnectorSpec, catalog: Catalog, settings: PolicySettings
) -> ConnectorResult:
    """`result` (the checker's, for `effective_spec(spec, settings)`) with the policy applied, and advised
    (`validator.advice.advise`)."""
    policy = spec.policy
    excess = policy.excess
    notices: list[Notice] = list(result.warnings)
    needed_labels = {
        label
        for permission in spec.permissions
        if (entry := catalog.probes_for(permission)) is not None
        for label in entry.labels
    }
    judged = [_base(item, excess, needed_labels) for item in result.permissions]
    drift: Drift | None = None
    if settings.baseline is not None and result.permissions:
        judged, drift, drift_notices = _drift(judged, result, settings.baseline)
        notices += drift_notices
    failures: list[PolicyFailure] = []
    waived: list[PermissionResult] = []
    for item in judged:
        waiver = policy.waiver_for(item.permission)
        if waiver is None:
            waived.append(item)
            continue
        item, notice = _waive(item, waiver, settings)
        waived.append(item)
        if notice is not None:
            notices.append(notice)
    for waiver in policy.waivers:
        if waiver.expired(settings.today):
            failures.append(_expired(waiver))
    judged_result = replace(
        result,
        permissions=tuple(waived),
        excess=excess,
        policy_failures=tuple(failures),
        drift=drift,
    )
    advised = advise(judged_result, catalog, spec)  # the excess warnings say what to do: advice first
    excess_notices = _excess_notices(advised.permissions) if excess is not ExcessMode.OFF else []
    return replace(advised, warnings=(*notices, *excess_notices))


def _base(item: PermissionResult, excess: ExcessMode, needed_labels: set[str]) -> PermissionResult:
    """The outcome of one verdict for how the permission is declared, before waivers and drift."""
    if item.declared is Declared.REQUIRED:
        return replace(item, outcome=required_outcome(item.verdict))
    if item.declared is Declared.FORBIDDEN:
        outcome, note = forbidden_outcome(item)
        return replace(item, outcome=outcome, note=note)
    outcome, reason = undeclared_outcome(item, excess, needed_labels)
    return replace(item, outcome=outcome, note=reason)


def proves_absence(item: PermissionResult) -> bool:
    """Whether the result proves that the token lacks the permission: the verdict `missing`, and every probe
    of it refused by an answer of proof strength (the catalog's `missing` answers). One probe refused while
    another went unanswered proves nothing about the other: where the probes' labels differ or are inferred
    (GET /admins and GET /teams, ticket search and ticket types), the unanswered one may be allowed."""
    return (
        item.verdict is Verdict.MISSING
        and bool(item.evidence)
        and all(e.verdict is Verdict.MISSING and e.strength is Strength.PROOF for e in item.evidence)
    )


def forbidden_outcome(item: PermissionResult) -> tuple[PermissionOutcome, str]:
    if item.verdict is Verdict.GRANTED:
        strength = _grant_strength(item)
        return PermissionOutcome.FAIL, f"granted {strength}"
    granted = [e for e in item.evidence if e.verdict is Verdict.GRANTED]
    if granted:
        return PermissionOutcome.FAIL, f"partly granted: {granted[0].describe()}"
    if proves_absence(item):
        return PermissionOutcome.OK, "proven absent"
    why = {
        Verdict.PLAN_RESTRICTED: "the workspace's plan hides whether the token has it",
        Verdict.UNVERIFIABLE: "no safe request proves it absent",
        Verdict.MISSING: "not every probe of it was refused by an answer that proves it absent",
    }.get(item.verdict, "no trustworthy answer proves it absent")
    return PermissionOutcome.INCONCLUSIVE, f"not proven absent: {why}"


def undeclared_outcome(
    item: PermissionResult, excess: ExcessMode, needed_labels: set[str]
) -> tuple[PermissionOutcome, str | None]:
    if item.verdict is Verdict.GRANTED:
        if item.labels and set(item.labels) <= needed_labels:
            labels = ", ".join(f'"{label}"' for label in item.labels)
            return PermissionOutcome.OK, f"granted by {labels}, which a needed permission needs too"
        if excess is ExcessMode.OFF:
            return PermissionOutcome.OK, "granted, not declared (excess is off)"
        outcome = PermissionOutcome.WARN if excess is ExcessMode.WARN else PermissionOutcome.FAIL
        return outcome, f"granted {_grant_strength(item)}"
    if item.verdict is Verdict.MISSING:
        return PermissionOutcome.OK, None
    if excess is ExcessMode.FAIL:
        return PermissionOutcome.INCONCLUSIVE, "not known whether it is granted (excess: fail)"
    if excess is ExcessMode.WARN:
        return PermissionOutcome.WARN, "not known whether it is granted"
    return PermissionOutcome.OK, None


def _grant_strength(item: PermissionResult) -> str:
    strengths = {e.strength for e in item.evidence if e.verdict is Verdict.GRANTED}
    return "by inference" if Strength.INFERENCE in strengths else "with proof"


def _waive(
    item: PermissionResult, waiver: Waiver, settings: PolicySettings
) -> tuple[PermissionResult, Notice | None]:
    expired = waiver.expired(settings.today)
    use = WaiverUse(waiver.reason, waiver.expires, waiver.position, expired=expired)
    if expired:
        return replace(item, waiver=use), None  # fails on its own (`_expired`); the outcome stands
    if item.outcome in (PermissionOutcome.FAIL, PermissionOutcome.WARN):
        note = f"waived until {waiver.expires.isoformat()}: {waiver.reason}"
        waived = replace(item, outcome=PermissionOutcome.WAIVED, waiver=replace(use, applied=True), note=note)
        days = (waiver.expires - settings.today).days
        if days <= settings.expiry_warning_days:
            when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
            message = (
                f"the waiver for {item.permission} expires on {waiver.expires.isoformat()} ({when}); after "
                f"that the run fails: fix the problem, or renew the waiver ({waiver.reason})"
            )
            return waived, Notice(
                WAIVER_EXPIRING, message, item.labels, NoticeLevel.WARNING, item.permission, waiver.position
            )
        return waived, None
    if item.outcome is PermissionOutcome.OK:
        message = (
            f"the waiver for {item.permission} is no longer needed: {_ok_meaning(item)}; remove it from "
            "policy.waivers"
        )
        return replace(item, waiver=use), Notice(
            WAIVER_UNNEEDED, message, (), NoticeLevel.NOTE, item.permission, waiver.position
        )
    return replace(item, waiver=use), None  # inconclusive: whether the problem is gone is not known


def _ok_meaning(item: PermissionResult) -> str:
    if item.declared is Declared.REQUIRED:
        return "it is granted"
    if item.declared is Declared.FORBIDDEN:
        return "it is proven absent"
    return "it is not granted" if item.verdict is Verdict.MISSING else "it is no longer excess"


def _expired(waiver: Waiver) -> PolicyFailure:
    message = (
        f"the waiver for {waiver.permission} expired on {waiver.expires.isoformat()} ({waiver.reason}): fix "
        "the problem and remove the waiver, or renew it with a later expires"
    )
    return PolicyFailure(WAIVER_EXPIRED, message, waiver.permission, waiver.position)


def _excess_notices(results: Iterable[PermissionResult]) -> list[Notice]:
    """A warning per excess grant under `excess: warn`, a note per undeclared permission not decided."""
    found: list[Notice] = []
    for item in results:
        if item.declared is not Declared.UNDECLARED or item.outcome is not PermissionOutcome.WARN:
            continue
        if item.verdict is Verdict.GRANTED:
            evidence = "; ".join(e.describe() for e in item.evidence if e.verdict is Verdict.GRANTED)
            message = (
                f"{item.permission} is granted but connector.yaml does not declare it (excess): {evidence}. "
                f"{item.remediation or ''}"
            ).strip()
            found.append(
                Notice(
                    EXCESS_GRANTED, message, item.labels, NoticeLevel.WARNING, item.permission, item.position
                )
            )
        elif item.waiver is None:
            message = f"{item.permission}: not known whether the token has it ({item.verdict})"
            found.append(
                Notice(
                    EXCESS_UNDECIDED, message, item.labels, NoticeLevel.NOTE, item.permission, item.position
                )
            )
    return found


def _drift(
    results: Sequence[PermissionResult], result: ConnectorResult, baseline: Baseline
) -> tuple[list[PermissionResult], Drift, list[Notice]]:
    before = baseline.find(result.path, result.name)
    if before is None:
        message = f"{baseline.source} has no report of this connector: nothing to compare"
        notice = Notice(BASELINE_UNMATCHED, message, level=NoticeLevel.NOTE, position=result.auth_position)
        return list(results), Drift(baseline.source, found=False), [notice]
    definite = (Verdict.GRANTED, Verdict.MISSING)
    gained: list[Permission] = []
    lost: list[Permission] = []
    unknown = 0
    changed: list[PermissionResult] = []
    notices: list[Notice] = []
    for item in results:
        earlier = before.verdicts.get(item.permission)
        if earlier not in definite or item.verdict not in definite:
            unknown += 1
        elif earlier is Verdict.MISSING and item.verdict is Verdict.GRANTED:
            gained.append(item.permission)
            undeclared = item.declared is Declared.UNDECLARED
            if undeclared and item.outcome is PermissionOutcome.OK:
                item = replace(item, outcome=PermissionOutcome.WARN, note=f"gained since {baseline.source}")
            message = f"{item.permission} was gained since {baseline.source} (then missing, now granted)" + (
                ": connector.yaml does not declare it" if undeclared else ""
            )
            level = NoticeLevel.WARNING if item.declared is not Declared.REQUIRED else NoticeLevel.NOTE
            notices.append(
                Notice(PERMISSION_GAINED, message, item.labels, level, item.permission, item.position)
            )
        elif earlier is Verdict.GRANTED and item.verdict is Verdict.MISSING:
            lost.append(item.permission)
            message = f"{item.permission} was lost since {baseline.source} (then granted, now missing)"
            notices.append(
                Notice(
                    PERMISSION_LOST, message, item.labels, NoticeLevel.NOTE, item.permission, item.position
                )
            )
        changed.append(item)
    if unknown:
        message = (
            f"{unknown} permission(s) could not be compared with {baseline.source}: not probed or not "
            "decided in one of the runs (a report records every permission with excess warn or fail, or "
            "with --baseline)"
        )
        notices.append(
            Notice(BASELINE_INCOMPLETE, message, level=NoticeLevel.NOTE, position=result.auth_position)
        )
    return changed, Drift(baseline.source, tuple(gained), tuple(lost), unknown), notices
