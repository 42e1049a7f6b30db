"""Markdown for a pull-request comment or a GitHub step summary: outcome, then per connector what to do."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from validator.findings import (
    WORKSPACE_MISMATCH,
    WORKSPACE_UNVERIFIED,
    Severity,
    describe_drift,
    describe_evidence,
    describe_identity,
    has_policy,
    identity_request,
    labels_to_untick,
    policy_findings,
)
from validator.model import Declared, PermissionOutcome, TokenStatus, Verdict, WorkspaceStatus
from validator.report import ConnectorResult, PermissionResult, Report

if TYPE_CHECKING:
    from validator.spec import SpecProblem

_VERDICT_SHOWN = {
    Verdict.GRANTED: "granted",
    Verdict.MISSING: "**missing**",
    Verdict.PLAN_RESTRICTED: "**plan-restricted**",
    Verdict.INCONCLUSIVE: "inconclusive",
    Verdict.UNVERIFIABLE: "unverifiable",
}

_OTHER_HEADINGS = (
    (Verdict.PLAN_RESTRICTED, "Restricted by the workspace's plan (no permission fixes this):"),
    (Verdict.INCONCLUSIVE, "Could not be decided:"),
    (Verdict.UNVERIFIABLE, "Cannot be verified by a safe request:"),
)


def render(report: Report) -> str:
    count = len(report.connectors)
    plural = "" if count == 1 else "s"
    lines = [
        f"## connector-validator: {str(report.outcome).upper()}",
        "",
        f"{count} connector file{plural} checked; exit code {int(report.exit_code)}.",
    ]
    for connector in report.connectors:
        lines += ["", *_connector(connector)]
    return "\n".join(lines) + "\n"


def _connector(connector: ConnectorResult) -> list[str]:
    name = f" ({_inline(connector.name)})" if connector.name else ""
    lines = [f"### {_code(connector.path)}{name}: {str(connector.outcome).upper()}", ""]
    if connector.problems:
        count = len(connector.problems)
        lines.append(f"**connector.yaml is invalid:** {count} problem{'' if count == 1 else 's'}")
        return [*lines, "", *(_problem(problem) for problem in connector.problems)]
    if connector.error is not None:
        return [*lines, f"**connector.yaml error:** {_inline(connector.error)}"]
    lines.append(f"**Token:** {_token(connector)}  ")
    lines.append(f"**Workspace:** {_workspace(connector)}")
    policy = has_policy(connector)
    if connector.permissions and policy:
        lines += [
            "",
            "| Data type | Access | Declared | Verdict | Outcome | Evidence |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        lines += [_row(result, policy=True) for result in connector.permissions]
    elif connector.permissions:
        lines += ["", "| Data type | Access | Verdict | Evidence |", "| --- | --- | --- | --- |"]
        lines += [_row(result) for result in connector.permissions]
    lines += _to_enable(connector)
    lines += _other_findings(connector)
    lines += _policy(connector)
    if connector.workspace is not None and connector.workspace.status is WorkspaceStatus.MISMATCH:
        lines += ["", f"{WORKSPACE_MISMATCH.description} {WORKSPACE_MISMATCH.help}"]
    if connector.workspace is not None and connector.workspace.status is WorkspaceStatus.UNVERIFIED:
        fix = _inline(connector.workspace.remediation) if connector.workspace.remediation else None
        lines += ["", f"{WORKSPACE_UNVERIFIED.description} **To fix:** {fix or WORKSPACE_UNVERIFIED.help}"]
    lines += _notices(connector)
    return lines


def _notices(connector: ConnectorResult) -> list[str]:
    if not connector.warnings:
        return []
    lines = ["", "**Warnings** (the result does not change):", ""]
    for notice in connector.warnings:
        about = f" {_code(str(notice.permission))}" if notice.permission is not None else ""
        labels = ", ".join(f'"{_inline(label)}"' for label in notice.labels)
        tick = f" Developer Hub: {labels}." if labels else ""
        lines.append(f"- {notice.level} {_code(notice.code)}{about}: {_inline(notice.message)}{tick}")
    return lines


def _problem(problem: SpecProblem) -> str:
    where = f"line {problem.line}, column {problem.col}"
    return f"- {where}: {_inline(problem.message)} ({_code(problem.json_path)})"


def _token(connector: ConnectorResult) -> str:
    token = connector.token
    source = f" (from {_code(token.env)})" if token.env else ""
    if token.status is TokenStatus.VALID:
        return f"valid{source}"
    if token.status is TokenStatus.REJECTED:
        code = f" ({_code(token.error_code)})" if token.error_code else ""
        why = f": {_inline(token.message)}" if token.message else ""
        return f"**rejected** by Intercom{code}{source}{why}; no permission was checked"
    if token.status.stops_the_check:
        return f"**{token.status}**: {_inline(token.message or 'no token found')}"
    reason = token.message or f"{identity_request()} gave no trustworthy answer"
    return f"not checked{source}: {_inline(reason)}"


def _workspace(connector: ConnectorResult) -> str:
    check = connector.workspace
    if check is None:
        return "not checked"
    if check.status is WorkspaceStatus.MATCH:
        return f"{_inline(describe_identity(check.actual))}, as declared"
    if check.status is WorkspaceStatus.UNKNOWN:
        return f"not checked (declared {_inline(describe_identity(check.expected))})"
    if check.status is WorkspaceStatus.UNVERIFIED:
        declared = _inline(describe_identity(check.expected))
        return f"**not verified**: the token may not read {_code(identity_request())} (declared {declared})"
    declared = _inline(describe_identity(check.expected))
    actual = _inline(describe_identity(check.actual))
    return f"**mismatch** in {', '.join(check.mismatches)}: declared {declared}, the token is for {actual}"


def _row(result: PermissionResult, *, policy: bool = False) -> str:
    evidence = "<br>".join(_cell(describe_evidence(item)) for item in result.evidence) or "-"
    cells: tuple[str, ...] = (
        _cell(str(result.data_type)),
        _cell(str(result.access)),
        _VERDICT_SHOWN[result.verdict],
        evidence,
    )
    if policy:
        outcome = str(result.outcome)
        if result.outcome is PermissionOutcome.FAIL:
            outcome = f"**{outcome}**"
        cells = (*cells[:2], str(result.declared), cells[2], outcome, cells[3])
    return "| " + " | ".join(cells) + " |"


def _policy(connector: ConnectorResult) -> list[str]:
    """The policy's findings (forbidden, excess, waived, expired waivers), the labels to untick, drift."""
    lines: list[str] = []
    found = policy_findings(connector)
    if found:
        lines += ["", f"**Policy** (excess: {_code(str(connector.excess))}):", ""]
        for finding in found:
            shown = "waived" if finding.rule.severity is Severity.WAIVED else finding.rule.level
            lines.append(f"- {shown} {_code(finding.subject)}: {_inline(finding.summary)}")
    untick = labels_to_untick(connector)
    if untick:
        where = connector.where_to_fix or "Developer Hub"
        lines += ["", f"**To fix**, in {_inline(where)}, untick:", ""]
        lines += [f'- [ ] "{_inline(label)}"' for label in untick]
        if connector.after_change:
            lines += ["", f"Then {_inline(connector.after_change)}."]
    if connector.drift is not None:
        lines += ["", f"**Drift** {_inline(describe_drift(connector.drift))}"]
    return lines


def _to_enable(connector: ConnectorResult) -> list[str]:
    """The Developer Hub permissions to tick, once each, with the permissions of connector.yaml they grant."""
    missing = [
        result
        for result in connector.permissions
        if result.verdict is Verdict.MISSING and result.declared is Declared.REQUIRED
    ]
    if not missing:
        return []
    needed_for: dict[str, list[str]] = {}
    for result in missing:
        for label in result.labels or ("(no Developer Hub label known)",):
            needed_for.setdefault(label, []).append(str(result.permission))
    where = connector.where_to_fix or "Developer Hub"
    lines = ["", f"**To fix**, in {_inline(where)}, tick:", ""]
    lines += [
        f'- [ ] "{_inline(label)}" (for {", ".join(_code(name) for name in names)})'
        for label, names in needed_for.items()
    ]
    if connector.after_change:
        lines += ["", f"Then {_inline(connector.after_change)}."]
    else:
        remediations = dict.fromkeys(result.remediation for result in missing if result.remediation)
        lines += ["", *(_inline(text) for text in remediations)]
    return lines


def _other_findings(connector: ConnectorResult) -> list[str]:
    lines: list[str] = []
    for verdict, heading in _OTHER_HEADINGS:
        found = [
            result
            for result in connector.permissions
            if result.verdict is verdict and result.declared is Declared.REQUIRED
        ]
        if not found:
            continue
        lines += ["", heading, ""]
        lines += [f"- {_code(str(result.permission))}" for result in found]
        remediations = dict.fromkeys(result.remediation for result in found if result.remediation)
        lines += ["", *(_inline(text) for text in remediations)]
    return lines


# Every text that comes from the server or the user (workspace names, ids, error codes, notes, paths,
# connector names) is escaped, so that it reads as the characters it holds and cannot inject a link, an
# image, HTML, emphasis or a table cell into a pull-request comment or a step summary.
_PUNCTUATION = re.compile(r"([\\`*_\[\]()!#|~@])")  # CommonMark lets any of these be backslash-escaped
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}  # HTML, entities and <autolinks>: never markup
_AUTOLINK = re.compile(r"(?i)(:)(?=//)|(?<=www)(\.)")  # GFM links bare http://… and www.… on its own
_LINE_START = re.compile(r"^(\d+)([.)])|^([-+=])")  # a list item or a heading underline at line start


def escape(text: str) -> str:
    """`text` as literal Markdown on one line: nothing in it is read as markup."""
    text = " ".join(text.split())
    text = "".join(_ENTITIES.get(character, character) for character in text)
    text = _PUNCTUATION.sub(r"\\\1", text)
    text = _AUTOLINK.sub(lambda match: "\\" + match.group(), text)
    return _LINE_START.sub(_escape_line_start, text, count=1)


def _escape_line_start(match: re.Match[str]) -> str:
    digits, delimiter, marker = match.groups()
    return f"{digits}\\{delimiter}" if digits else f"\\{marker}"


def _cell(text: str) -> str:
    """Text safe inside a table cell: `escape` already turns `|` into `\\|` and line breaks into spaces."""
    return escape(text)


def _inline(text: str) -> str:
    return escape(text)


def _code(text: str) -> str:
    """`text` as a code span: inert (no markup, links or mentions); the fence outgrows any backtick run."""
    text = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{padding}{text}{padding}{fence}"
