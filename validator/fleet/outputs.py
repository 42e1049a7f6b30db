"""What `fleet` writes: a line per install as soon as it is decided, then a summary; pure functions of an
`InstallResult` or of the `Tally`, plus the report files that stream them.

Nothing per install is kept once its line is written: the `Tally` holds counters only (installs per
outcome and per action, how often each Developer Hub label is missing), so memory stays flat however many
installs are read. Formats: `jsonl` (one JSON object per install, then `{"summary": {…}}`;
schemas/fleet.schema.json), `text` (the installs that need action as they are decided, then the summary
table), and the `--report` files `markdown` and `csv` for people who must follow up (and `jsonl`).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from validator.errors import ExitCode, most_severe
from validator.fleet.judge import Action, InstallResult
from validator.model import Outcome

FLEET_FORMAT_VERSION = 1
TOP_LABELS = 10  # the labels most often missing that the summary lists


class FleetFormat(StrEnum):
    TEXT = "text"
    JSONL = "jsonl"
    MARKDOWN = "markdown"
    CSV = "csv"


# Formats of the main output (stdout) and of `--report FORMAT=FILE`.
STDOUT_FORMATS = (FleetFormat.TEXT, FleetFormat.JSONL)
REPORT_FORMATS = (FleetFormat.JSONL, FleetFormat.MARKDOWN, FleetFormat.CSV)


@dataclass
class Tally:
    """Counters of what was decided; the only state a fleet run keeps across installs."""

    outcomes: Counter[Outcome] = field(default_factory=Counter)
    actions: Counter[Action] = field(default_factory=Counter)
    missing: Counter[str] = field(default_factory=Counter)
    exit_code: ExitCode = ExitCode.OK
    interrupted: bool = False

    def add(self, result: InstallResult) -> None:
        self.outcomes[result.outcome] += 1
        self.actions[result.action] += 1
        self.missing.update(result.missing)
        self.exit_code = most_severe([self.exit_code, result.exit_code])

    @property
    def decided(self) -> int:
        return sum(self.outcomes.values())

    @property
    def needing_action(self) -> int:
        return self.decided - self.outcomes[Outcome.PASS]

    def as_json(self) -> dict[str, Any]:
        return {
            "format_version": FLEET_FORMAT_VERSION,
            "installs": self.decided,
            "outcomes": {str(outcome): self.outcomes[outcome] for outcome in Outcome},
            "actions": {str(action): self.actions[action] for action in Action},
            "missing": [{"label": label, "installs": count} for label, count in self._top_missing()],
            "exit_code": int(self.exit_code),
            "interrupted": self.interrupted,
        }

    def _top_missing(self) -> list[tuple[str, int]]:
        return sorted(self.missing.items(), key=lambda item: (-item[1], item[0]))


# --- jsonl ------------------------------------------------------------------------------------------------


def jsonl_line(result: InstallResult) -> str:
    return json.dumps(result.as_json(), ensure_ascii=False) + "\n"


def jsonl_summary(tally: Tally) -> str:
    return json.dumps({"summary": tally.as_json()}, ensure_ascii=False) + "\n"


# --- text -------------------------------------------------------------------------------------------------


def text_line(result: InstallResult) -> str:
    """One line for an install that needs action ("" for one that passed)."""
    if not result.needs_action:
        return ""
    who = result.label or result.workspace_id or "(unreadable line)"
    workspace = f" workspace {result.workspace_id}" if result.workspace_id and result.label else ""
    token = f" token {result.token_fingerprint}" if result.token_fingerprint else ""
    text = f"line {result.line}: {who}{workspace}{token}: {result.action} ({result.outcome}): {result.reason}"
    if result.missing:
        text += "; tick: " + ", ".join(f"'{label}'" for label in result.missing)
    return text + "\n"


def text_summary(tally: Tally) -> str:
    lines = ["", f"fleet: {tally.decided} installs decided" + (" (interrupted)" if tally.interrupted else "")]
    lines += ["", "  outcome          installs"]
    lines += [f"  {outcome!s:<16} {tally.outcomes[outcome]:>8}" for outcome in Outcome]
    lines += ["", "  action           installs"]
    lines += [f"  {action!s:<16} {tally.actions[action]:>8}" for action in Action]
    top = tally._top_missing()[:TOP_LABELS]
    if top:
        lines += ["", "  most often missing (Developer Hub label)    installs"]
        lines += [f"  {label:<42} {count:>8}" for label, count in top]
    lines += ["", f"exit code {int(tally.exit_code)}: {tally.exit_code.meaning_for('fleet')}"]
    return "\n".join(lines) + "\n"


# --- markdown ---------------------------------------------------------------------------------------------


def _md(text: str | None) -> str:
    if not text:
        return ""
    escaped = "".join("\\" + ch if ch in "\\`*_{}[]<>()#+!|~" else ch for ch in text)
    return escaped.replace("\n", " ")


def markdown_head() -> str:
    return (
        "# Fleet check: installs that need action\n\n"
        "| line | label | workspace | token | outcome | action | labels to tick | reason |\n"
        "|---:|---|---|---|---|---|---|---|\n"
    )


def markdown_row(result: InstallResult) -> str:
    if not result.needs_action:
        return ""
    cells = [
        str(result.line),
        _md(result.label),
        f"`{result.workspace_id}`" if result.workspace_id and "`" not in result.workspace_id else "",
        f"`{result.token_fingerprint}`" if result.token_fingerprint else "",
        str(result.outcome),
        f"**{result.action}**",
        "; ".join(_md(label) for label in result.missing),
        _md(result.reason),
    ]
    return "| " + " | ".join(cells) + " |\n"


def markdown_tail(tally: Tally) -> str:
    lines = ["", "## Summary", ""]
    if tally.interrupted:
        lines += ["Interrupted: only the installs decided before the interrupt are counted.", ""]
    lines += ["| outcome | installs |", "|---|---:|"]
    lines += [f"| {outcome} | {tally.outcomes[outcome]} |" for outcome in Outcome]
    lines += ["", "| action | installs |", "|---|---:|"]
    lines += [f"| {action} | {tally.actions[action]} |" for action in Action]
    top = tally._top_missing()[:TOP_LABELS]
    if top:
        lines += ["", "| most often missing | installs |", "|---|---:|"]
        lines += [f"| {_md(label)} | {count} |" for label, count in top]
    lines += ["", f"Exit code {int(tally.exit_code)}: {tally.exit_code.meaning_for('fleet')}."]
    return "\n".join(lines) + "\n"


# --- csv --------------------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "line",
    "label",
    "workspace_id",
    "region",
    "token_fingerprint",
    "outcome",
    "action",
    "missing",
    "reason",
    "found_workspace_id",
)


def _csv(value: object) -> str:
    """One CSV cell (RFC 4180 quoting); text a spreadsheet would run as a formula starts with a quote."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    if any(ch in text for ch in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def csv_head() -> str:
    return ",".join(CSV_COLUMNS) + "\r\n"


def csv_row(result: InstallResult) -> str:
    data = result.as_json()
    data["missing"] = "; ".join(result.missing)
    return ",".join(_csv(data[column]) for column in CSV_COLUMNS) + "\r\n"


# --- the table: what each format writes at the start, per install, and at the end --------------------------


def head(fmt: FleetFormat) -> str:
    return {FleetFormat.MARKDOWN: markdown_head(), FleetFormat.CSV: csv_head()}.get(fmt, "")


def row(fmt: FleetFormat, result: InstallResult) -> str:
    if fmt is FleetFormat.JSONL:
        return jsonl_line(result)
    if fmt is FleetFormat.TEXT:
        return text_line(result)
    if fmt is FleetFormat.MARKDOWN:
        return markdown_row(result)
    return csv_row(result)


def tail(fmt: FleetFormat, tally: Tally) -> str:
    if fmt is FleetFormat.JSONL:
        return jsonl_summary(tally)
    if fmt is FleetFormat.TEXT:
        return text_summary(tally)
    if fmt is FleetFormat.MARKDOWN:
        return markdown_tail(tally)
    return ""  # a CSV file is rows only, so that it sorts and filters as one table
