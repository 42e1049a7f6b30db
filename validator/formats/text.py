"""Text for people: `validate`'s report (the workspace found, a table of verdicts, what to do next),
`lint`'s problems one per line, and `plan`'s requests with how each answer is read."""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING

from validator.errors import ExitCode
from validator.findings import (
    TOKEN_REJECTED,
    WORKSPACE_MISMATCH,
    Severity,
    describe_drift,
    describe_identity,
    has_policy,
    identity_rejected,
    identity_request,
    labels_to_untick,
    policy_findings,
)
from validator.model import Declared, PermissionOutcome, TokenStatus, Verdict, WorkspaceStatus
from validator.plan import describe_rule, identity_answers
from validator.report import ConnectorResult, PermissionResult, Report

if TYPE_CHECKING:
    from validator.lint import LintResult
    from validator.plan import Plan
    from validator.spec import SpecProblem

WIDTH = 100  # prose is wrapped; table rows are not, so that each stays one greppable line

_VERDICT_SHOWN = {
    Verdict.GRANTED: "granted",
    Verdict.MISSING: "MISSING",
    Verdict.PLAN_RESTRICTED: "PLAN-RESTRICTED",
    Verdict.INCONCLUSIVE: "inconclusive",
    Verdict.UNVERIFIABLE: "unverifiable",
}

_EXIT_MEANING = {
    ExitCode.OK: "every declared permission is granted",
    ExitCode.FAILED: (
        "a permission is missing or plan-restricted, the workspace does not match, or the policy fails"
    ),
    ExitCode.USAGE: "a usage or connector.yaml error",
    ExitCode.TOKEN_REJECTED: "Intercom rejected the token",
    ExitCode.INCONCLUSIVE: "some checks could not be decided",
}


def render(report: Report) -> str:
    blocks = [_connector(connector) for connector in report.connectors]
    code = report.exit_code
    blocks.append(f"Result: {str(report.outcome).upper()} (exit {int(code)}: {_EXIT_MEANING[code]})")
    return "\n\n".join(blocks) + "\n"


def _connector(connector: ConnectorResult) -> str:
    title = connector.path + (f" ({connector.name})" if connector.name else "")
    lines = [title, "=" * len(title)]
    if connector.error is not None:
        lines.append(f"error: {connector.error}")
        return "\n".join(lines)
    lines.append(_token_line(connector))
    if connector.workspace is not None:
        lines.extend(_workspace_lines(connector))
    if connector.permissions:
        lines.append("")
        lines.extend(_table(connector.permissions, has_policy(connector)))
    lines.extend(_next_steps(connector))
    lines.extend(_policy_lines(connector))
    lines.extend(_notices(connector))
    return "\n".join(lines)


def _token_line(connector: ConnectorResult) -> str:
    token = connector.token
    source = f" (from {token.env})" if token.env else ""
    if token.status is TokenStatus.VALID:
        return f"token:      valid{source}"
    if token.status is TokenStatus.REJECTED:
        answer = f"{identity_rejected()} {token.error_code or ''}".rstrip()
        first = f"token:      REJECTED by Intercom{source}: {answer}; no permission was probed."
        return "\n".join([first, *_wrapped(TOKEN_REJECTED.help_text, indent=" " * 12)])
    if token.status.stops_the_check:
        return f"token:      {str(token.status).upper()}: {token.message}"
    return f"token:      unknown: {token.message or f'no trustworthy answer from {identity_request()}'}"


def _workspace_lines(connector: ConnectorResult) -> list[str]:
    workspace = connector.workspace
    assert workspace is not None
    if workspace.status is WorkspaceStatus.MATCH:
        return [f"workspace:  {describe_identity(workspace.actual)}, as declared"]
    if workspace.status is WorkspaceStatus.UNKNOWN:
        return [f"workspace:  not checked (expected {describe_identity(workspace.expected)})"]
    return [
        f"workspace:  MISMATCH in {', '.join(workspace.mismatches)}",
        f"            declared {describe_identity(workspace.expected)}",
        f"            token is for {describe_identity(workspace.actual)}",
    ]


def _table(results: tuple[PermissionResult, ...], policy: bool = False) -> list[str]:
    """One row per permission; with a policy, how each is declared and its outcome too."""
    header: tuple[str, ...] = ("DATA TYPE", "ACCESS", "VERDICT", "EVIDENCE")
    if policy:
        header = ("DATA TYPE", "ACCESS", "DECLARED", "VERDICT", "OUTCOME", "EVIDENCE")
    rows: list[tuple[str, ...]] = []
    for result in results:
        evidence = "; ".join(evidence.describe() for evidence in result.evidence) or "-"
        verdict = _VERDICT_SHOWN[result.verdict]
        if policy:
            outcome = (
                str(result.outcome).upper()
                if result.outcome is PermissionOutcome.FAIL
                else str(result.outcome)
            )
            rows.append(
                (str(result.data_type), str(result.access), str(result.declared), verdict, outcome, evidence)
            )
        else:
            rows.append((str(result.data_type), str(result.access), verdict, evidence))
    fixed = len(header) - 1
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(fixed)]

    def line(row: tuple[str, ...]) -> str:
        cells = "  ".join(cell.ljust(width) for cell, width in zip(row[:fixed], widths, strict=True))
        return cells + "  " + row[fixed]

    return [line(header), *(line(row) for row in rows)]


def _policy_lines(connector: ConnectorResult) -> list[str]:
    """The policy's findings (forbidden, excess, waived, expired waivers), the labels to untick, drift."""
    lines: list[str] = []
    found = policy_findings(connector)
    if found:
        lines += ["", f"Policy (excess: {connector.excess}):"]
        for finding in found:
            shown = "waived" if finding.rule.severity is Severity.WAIVED else str(finding.rule.level).upper()
            lines += _wrapped(f"{shown} {finding.subject}: {finding.summary}", indent="  ")
    untick = labels_to_untick(connector)
    if untick:
        lines += ["", f"To fix: in {connector.where_to_fix or 'Developer Hub'}, untick:"]
        lines += [f'  [ ] "{label}"' for label in untick]
        if connector.after_change:
            lines += _wrapped(f"then {connector.after_change}.", indent="")
    if connector.drift is not None:
        lines += ["", *_wrapped(f"Drift {describe_drift(connector.drift)}", indent="")]
    return lines


def _next_steps(connector: ConnectorResult) -> list[str]:
    lines: list[str] = []
    missing = [
        result
        for result in connector.permissions
        if result.verdict is Verdict.MISSING and result.declared is Declared.REQUIRED
    ]
    if missing:
        labels: list[str] = []
        for result in missing:
            labels.extend(label for label in result.labels if label not in labels)
        lines += ["", f"To fix: in {connector.where_to_fix or 'Developer Hub'}, tick:"]
        lines += [f'  [ ] "{label}"' for label in labels]
        if connector.after_change:
            lines += _wrapped(f"then {connector.after_change}.", indent="")
    for verdict, heading in (
        (Verdict.PLAN_RESTRICTED, "Plan-restricted (no permission fixes this):"),
        (Verdict.INCONCLUSIVE, "Could not be decided:"),
        (Verdict.UNVERIFIABLE, "Cannot be verified by a safe request:"),
    ):
        found = [
            result
            for result in connector.permissions
            if result.verdict is verdict and result.declared is Declared.REQUIRED
        ]
        if not found:
            continue
        lines += ["", heading]
        if all(not result.evidence for result in found):
            why = f"since {identity_request()} gave no trustworthy answer"
            lines.append(f"  {len(found)} permission(s) not probed, {why}")
        else:
            lines += [f"  {result.data_type}:{result.access}: {_why(result)}" for result in found]
        lines += _wrapped(found[0].remediation or "")
    workspace = connector.workspace
    if workspace is not None and workspace.status is WorkspaceStatus.MISMATCH:
        lines += ["", *_wrapped(f"{WORKSPACE_MISMATCH.description} {WORKSPACE_MISMATCH.help_text}", "")]
    return lines


def _notices(connector: ConnectorResult) -> list[str]:
    """Warnings and notes, after what to fix: they never change the result."""
    if not connector.warnings:
        return []
    lines = ["", "Warnings (the result does not change):"]
    for notice in connector.warnings:
        about = f" {notice.permission}" if notice.permission is not None else ""
        lines.append(f"  {notice.level} [{notice.code}]{about}:")
        lines += _wrapped(notice.message, indent="    ")
        if notice.labels:
            lines += _wrapped("Developer Hub: " + ", ".join(f'"{label}"' for label in notice.labels), "    ")
    return lines


def _wrapped(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, width=WIDTH, initial_indent=indent, subsequent_indent=indent)


def _why(result: PermissionResult) -> str:
    notes = [evidence.note for evidence in result.evidence if evidence.note]
    return notes[0] if notes else "no request answered"


# --- lint -------------------------------------------------------------------------------------------------


def render_lint(result: LintResult) -> str:
    """One line per problem, `path:line:col: message (json.path)`; nothing for a valid file."""
    lines: list[str] = []
    for file in result.files:
        if file.error is not None:
            lines.append(f"{file.path}: cannot read: {file.error}")
        lines.extend(problem.format() for problem in file.problems)
        lines.extend(_lint_warning(warning) for warning in file.warnings)
    return "\n".join(lines) + "\n" if lines else ""


def _lint_warning(warning: SpecProblem) -> str:
    return f"{warning.file}:{warning.line}:{warning.col}: warning: {warning.message} ({warning.json_path})"


# --- plan -------------------------------------------------------------------------------------------------


def render_plan(plan: Plan) -> str:
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
        declared = "" if planned.declared is Declared.REQUIRED else f"{planned.declared}; "
        lines += ["", f"{number}. {planned.permission} ({declared}Developer Hub: {labels})"]
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
        f"Probes run concurrently once {plan.identity.method} {plan.identity.path} has proven the token; "
        "a permission is granted only when every request for it says so.",
    ]
    return "\n".join(lines) + "\n"
