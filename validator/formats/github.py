"""GitHub Actions workflow commands: one annotation per finding, on the line of connector.yaml concerned.

GitHub shows at most 10 error and 10 warning annotations per step and drops the rest silently, so each kind is
capped here and a closing plain line says how many were left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from validator.findings import (
    CONNECTOR_INVALID,
    Finding,
    findings,
    lint_text,
    normalized_path,
)
from validator.model import Position
from validator.report import Report

if TYPE_CHECKING:
    from validator.lint import LintResult

ANNOTATION_LIMIT = 10  # per kind and step, GitHub's own limit
_COMMAND_OF_LEVEL = {"error": "error", "warning": "warning", "note": "notice"}  # SARIF's levels → commands
_PREFIX = "connector-validator"


@dataclass(frozen=True)
class Annotation:
    level: str  # "error", "warning" or "notice", the workflow command's name
    file: str
    position: Position | None
    title: str
    message: str

    def command(self) -> str:
        properties = [("file", normalized_path(self.file))]
        if self.position is not None:
            properties += [("line", str(self.position.line)), ("col", str(self.position.col))]
        properties.append(("title", self.title))
        joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
        return f"::{self.level} {joined}::{escape_data(self.message)}"


def render(report: Report) -> str:
    return _commands([_annotation(finding) for finding in findings(report)])


def render_lint(result: LintResult) -> str:
    """One error annotation per connector.yaml problem `lint` found, capped like the report's.

    A file that could not be read has no line to annotate: the CLI says so on stderr.
    """
    annotations = [
        Annotation(
            "error",
            problem.file,
            Position(problem.line, problem.col),
            CONNECTOR_INVALID.title,
            lint_text(problem),
        )
        for problem in result.problems
    ]
    annotations += [
        Annotation(
            "warning", warning.file, Position(warning.line, warning.col), "Waiver expired", lint_text(warning)
        )
        for warning in result.warnings
    ]
    return _commands(annotations)


def _annotation(finding: Finding) -> Annotation:
    return Annotation(
        level=_COMMAND_OF_LEVEL[finding.rule.level],
        file=finding.path,
        position=finding.position,
        title=finding.title,
        message=finding.text,
    )


def _commands(annotations: Sequence[Annotation]) -> str:
    lines: list[str] = []
    shown = {"error": 0, "warning": 0, "notice": 0}
    left_out = {"error": 0, "warning": 0, "notice": 0}
    for annotation in annotations:
        if shown[annotation.level] < ANNOTATION_LIMIT:
            shown[annotation.level] += 1
            lines.append(annotation.command())
        else:
            left_out[annotation.level] += 1
    if any(left_out.values()):
        counts = [_count(number, f"more {level}") for level, number in left_out.items() if number]
        lines.append(f"{_PREFIX}: {' and '.join(counts)} not shown as annotations; see the report")
    return "".join(f"{line}\n" for line in lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def escape_data(value: str) -> str:
    """Escape a workflow command's message as the Actions runner reads it back (`%`, CR, LF)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a workflow command's property value: the message's escapes plus `:` and `,`."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")
