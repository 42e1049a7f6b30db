"""Text for people: `validate`'s report (the workspace found, a table of verdicts, what to do next),
`lint`'s problems one per line, and `plan`'s requests with how each answer is read.

`validate`'s report may be coloured (verdicts, token and workspace problems, the result line) for a
terminal; colour is off unless asked for, and never changes a character of the text around it, so the
coloured report is the plain one with SGR sequences added."""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING

from validator.advice import plain
from validator.errors import ExitCode
from validator.findings import (
    TOKEN_REJECTED,
    WORKSPACE_MISMATCH,
    WORKSPACE_UNVERIFIED,
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
from validator.plan import describe_rule, identity_answers, route_miss_rule
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
        "a permission is missing or plan-restricted, the workspace does not match or cannot be verified, "
        "or the policy fails"
    ),
    ExitCode.USAGE: "a usage or connector.yaml error",
    ExitCode.TOKEN_REJECTED: "Intercom rejected the token",
    ExitCode.INCONCLUSIVE: "some checks could not be decided",
}


# SGR parameters: green, red, yellow, magenta, cyan; bold is added for the result line.
_VERDICT_COLOR = {
    Verdict.GRANTED: "32",
    Verdict.MISSING: "31",
    Verdict.PLAN_RESTRICTED: "35",
    Verdict.INCONCLUSIVE: "33",
    Verdict.UNVERIFIABLE: "36",
}
_EXIT_COLOR = {
    ExitCode.OK: "32",
    ExitCode.FAILED: "31",
    ExitCode.USAGE: "31",
    ExitCode.TOKEN_REJECTED: "31",
    ExitCode.INCONCLUSIVE: "33",
}
_PROBLEM = "31"
_NOTICE_COLOR = {"warning": "33", "note": "36"}


def _paint(text: str, sgr: str, color: bool) -> str:
    return f"\x1b[{sgr}m{text}\x1b[0m" if color and text and sgr else text


def render(report: Report, *, color: bool = False, quiet: bool = False) -> str:
    """The whole report; `color` adds terminal colour (see the module's docstring). `quiet` (`validate -q`)
    keeps only a line per connector that could not be checked at all (its file, its token, no answer from
    GET /me) and the result line."""
    if quiet:
        return _quiet(report, color)
    blocks = [_connector(connector, color) for connector in report.connectors]
    blocks.append(_result_line(report, color))
    return "\n\n".join(blocks) + "\n"


def _result_line(report: Report, color: bool) -> str:
    """`Result: OUTCOME (exit N: meaning)`."""
    code = report.exit_code
    outcome = _paint(f"Result: {str(report.outcome).upper()}", f"1;{_EXIT_COLOR[code]}", color)
    return f"{outcome} (exit {int(code)}: {_EXIT_MEANING[code]})"


def _quiet(report: Report, color: bool) -> str:
    lines: list[str] = []
    for connector in report.connectors:
        token = connector.token
        if connector.problems:  # every problem of the file, each naming it (`path:line:col: message`)
            lines += [
                f"{_paint('error', _PROBLEM, color)}: {problem.format()}" for problem in connector.problems
            ]
        elif connector.error is not None:  # it names the file already (`path:line:col: message`)
            where = "" if connector.error.startswith(connector.path) else f"{connector.path}: "
            lines.append(f"{_paint('error', _PROBLEM, color)}: {where}{connector.error}")
        elif token.status is TokenStatus.REJECTED:
            rejected = _paint("REJECTED", _PROBLEM, color)
            lines.append(f"{connector.path}: token {rejected} by Intercom ({identity_rejected()})")
        elif token.status.stops_the_check:
            status = _paint(str(token.status).upper(), _PROBLEM, color)
            lines.append(f"{connector.path}: token {status}: {token.message}")
        elif token.status is TokenStatus.UNKNOWN:  # GET /me gave no usable answer: Intercom unreachable?
            unknown = _paint("unknown", _VERDICT_COLOR[Verdict.INCONCLUSIVE], color)
            why = token.message or f"no trustworthy answer from {identity_request()}"
            lines.append(f"{connector.path}: token {unknown}: {why}")
    return "".join(f"{line}\n" for line in [*lines, _result_line(report, color)])


def _connector(connector: ConnectorResult, color: bool = False) -> str:
    title = connector.path + (f" ({connector.name})" if connector.name else "")
    lines = [title, "=" * len(title)]
    if connector.error is not None:
        # Every problem, one `path:line:col: message (json.path)` line each, as `lint` prints them.
        label = _paint("error", _PROBLEM, color)
        shown = [problem.format() for problem in connector.problems] or [connector.error]
        lines += [f"{label}: {text}" for text in shown]
        return "\n".join(lines)
    lines.append(_token_line(connector, color))
    if connector.workspace is not None:
        lines.extend(_workspace_lines(connector, color))
    if connector.permissions:
        lines.append("")
        lines.extend(_table(connector.permissions, color, policy=has_policy(connector)))
    lines.extend(_next_steps(connector))
    lines.extend(_policy_lines(connector))
    lines.extend(_notices(connector, color))
    return "\n".join(lines)


def _token_line(connector: ConnectorResult, color: bool = False) -> str:
    token = connector.token
    source = f" (from {token.env})" if token.env else ""
    if token.status is TokenStatus.VALID:
        return f"token:      {_paint('valid', _VERDICT_COLOR[Verdict.GRANTED], color)}{source}"
    if token.status is TokenStatus.REJECTED:
        rejected = _paint("REJECTED", _PROBLEM, color)
        if token.message:  # refused by a probe after a /me that could not name the workspace
            first = f"token:      {rejected} by Intercom{source}: {token.message}; no permission is reported."
        else:
            answer = f"{identity_rejected()} {token.error_code or ''}".rstrip()
            first = f"token:      {rejected} by Intercom{source}: {answer}; no permission was probed."
        return "\n".join([first, *_wrapped(TOKEN_REJECTED.help_text, indent=" " * 12)])
    if token.status.stops_the_check:
        return f"token:      {_paint(str(token.status).upper(), _PROBLEM, color)}: {token.message}"
    return f"token:      unknown: {token.message or f'no trustworthy answer from {identity_request()}'}"


def _workspace_lines(connector: ConnectorResult, color: bool = False) -> list[str]:
    workspace = connector.workspace
    assert workspace is not None
    if workspace.status is WorkspaceStatus.MATCH:
        return [f"workspace:  {describe_identity(workspace.actual)}, as declared"]
    if workspace.status is WorkspaceStatus.UNKNOWN:
        return [f"workspace:  not checked (expected {describe_identity(workspace.expected)})"]
    if workspace.status is WorkspaceStatus.UNVERIFIED:
        unverified = _paint("NOT VERIFIED", _PROBLEM, color)
        return [
            f"workspace:  {unverified}: the token may not read {identity_request()}, which names it",
            f"            declared {describe_identity(workspace.expected)}",
        ]
    return [
        f"workspace:  {_paint('MISMATCH', _PROBLEM, color)} in {', '.join(workspace.mismatches)}",
        f"            declared {describe_identity(workspace.expected)}",
        f"            token is for {describe_identity(workspace.actual)}",
    ]


def _table(results: tuple[PermissionResult, ...], color: bool = False, *, policy: bool = False) -> list[str]:
    """One row per permission; with a policy, how each is declared and its outcome too."""
    header: tuple[str, ...] = ("DATA TYPE", "ACCESS", "VERDICT", "EVIDENCE")
    if policy:
        header = ("DATA TYPE", "ACCESS", "DECLARED", "VERDICT", "OUTCOME", "EVIDENCE")
    verdict_column = header.index("VERDICT")
    rows: list[tuple[str, ...]] = []
    for result in results:
        evidence = "; ".join(evidence.describe() for evidence in result.evidence) or "-"
        verdict = _VERDICT_SHOWN[result.verdict]
        if policy:
            outcome = str(result.outcome)
            if result.outcome is PermissionOutcome.FAIL:
                outcome = outcome.upper()
            rows.append(
                (str(result.data_type), str(result.access), str(result.declared), verdict, outcome, evidence)
            )
        else:
            rows.append((str(result.data_type), str(result.access), verdict, evidence))
    fixed = len(header) - 1
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(fixed)]

    def line(row: tuple[str, ...], verdict: Verdict | None = None) -> str:
        cells = [cell.ljust(width) for cell, width in zip(row[:fixed], widths, strict=True)]
        if verdict is not None:  # painted without its padding, so that columns stay aligned
            shown = row[verdict_column]
            padding = " " * (widths[verdict_column] - len(shown))
            cells[verdict_column] = _paint(shown, _VERDICT_COLOR[verdict], color) + padding
        return "  ".join(cells) + "  " + row[fixed]

    return [line(header), *(line(row, result.verdict) for row, result in zip(rows, results, strict=True))]


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
        if verdict is not Verdict.UNVERIFIABLE and all(not result.evidence for result in found):
            why = f"since {identity_request()} gave no trustworthy answer"
            lines.append(f"  {len(found)} permission(s) not probed, {why}")
        else:
            lines += [f"  {result.data_type}:{result.access}: {_why(result)}" for result in found]
        lines += _wrapped(found[0].remediation or "")
    workspace = connector.workspace
    if workspace is not None and workspace.status is WorkspaceStatus.MISMATCH:
        lines += ["", *_wrapped(f"{WORKSPACE_MISMATCH.description} {WORKSPACE_MISMATCH.help_text}", "")]
    if workspace is not None and workspace.status is WorkspaceStatus.UNVERIFIED:
        fix = workspace.remediation or WORKSPACE_UNVERIFIED.help_text
        lines += ["", *_wrapped(f"{plain(WORKSPACE_UNVERIFIED.description)} To fix: {fix}", "")]
    return lines


def _notices(connector: ConnectorResult, color: bool = False) -> list[str]:
    """Warnings and notes, after what to fix: they never change the result."""
    if not connector.warnings:
        return []
    lines = ["", "Warnings (the result does not change):"]
    for notice in connector.warnings:
        about = f" {notice.permission}" if notice.permission is not None else ""
        level = _paint(str(notice.level), _NOTICE_COLOR.get(str(notice.level), ""), color)
        lines.append(f"  {level} [{notice.code}]{about}:")
        lines += _wrapped(notice.message, indent="    ")
        if notice.labels:
            lines += _wrapped("Developer Hub: " + ", ".join(f'"{label}"' for label in notice.labels), "    ")
    return lines


def _wrapped(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, width=WIDTH, initial_indent=indent, subsequent_indent=indent)


def _why(result: PermissionResult) -> str:
    notes = [evidence.note for evidence in result.evidence if evidence.note]
    if not notes and not result.evidence and result.verdict is Verdict.UNVERIFIABLE:
        return "no safe request exists, so none was sent"
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
        inferred = "; which one gates it is inference" if planned.labels_inferred else ""
        declared = "" if planned.declared is Declared.REQUIRED else f"{planned.declared}; "
        lines += ["", f"{number}. {planned.permission} ({declared}Developer Hub: {labels}{inferred})"]
        if planned.proves:
            lines += _wrapped(f"what proves it: {planned.proves}", "   ")
        if not planned.requests:
            lines.append("     no safe request proves it: the verdict would be unverifiable")
            if planned.unverifiable_because:
                lines += _wrapped(f"why: {planned.unverifiable_because}", "     ")
        if planned.alternatives:
            lines.append("     alternative proofs: one granted request suffices, unless another says missing")
        for request in planned.requests:
            lines.append(f"   {request.method} {request.target}")
            if request.body is not None:
                lines.append(f"     body: {json.dumps(request.body, ensure_ascii=False)}")
            lines.append(f"     safe because: {request.why_safe}")
            lines.append(f"     evidence when granted: {request.strength or 'none'}")
            lines += [f"     {describe_rule(rule)}" for rule in request.answers]
            lines.append("     otherwise the common answers below; anything unexplained → inconclusive")
    for note in plan.notes:
        lines += ["", *_wrapped(f"Also: {note}", "")]
    if plan.controls:
        lines += ["", "Route-miss controls (sent once, in the same concurrent round as the probes):"]
        for control in plan.controls:
            lines.append(f"   {control.method} {control.path}")
            if control.body is not None:
                lines.append(f"     body: {json.dumps(control.body, ensure_ascii=False)}")
            lines.append(f"     safe because: {control.why_safe}")
    lines += ["", "A 404 to a write:", *_wrapped(route_miss_rule(plan.route_miss))]
    lines += ["", "Common answers (any probe, after its own rules):"]
    lines += [f"  {describe_rule(rule)}" for rule in plan.common_answers]
    lines += [
        "",
        f"Probes run concurrently once {plan.identity.method} {plan.identity.path} has proven the token; "
        "a permission is granted only when every request for it says so (or, for alternative proofs, one "
        "does and none says missing).",
    ]
    return "\n".join(lines) + "\n"
