"""Output formats: one module per format, each a set of pure functions of what it renders.

`RENDERERS` is the one table of which format renders what: `validate`'s report, `lint`'s result, `plan`'s
plan. It names each renderer by module and function, imported on first use, so that a run pays only for
the formats it writes; `renderer` hands them out typed by what they render.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import import_module
from typing import TYPE_CHECKING, Any, Final, Literal, overload

from validator.errors import ValidatorError

if TYPE_CHECKING:
    from validator.lint import LintResult
    from validator.plan import Plan
    from validator.report import Report


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"
    SARIF = "sarif"
    GITHUB = "github"
    MARKDOWN = "markdown"


class Subject(StrEnum):
    """What a format renders, named after the command that produces it."""

    REPORT = "validate"  # validator.report.Report
    LINT = "lint"  # validator.lint.LintResult
    PLAN = "plan"  # validator.plan.Plan


@dataclass(frozen=True)
class Renderer:
    """A function `module.function` of `validator.formats`, taking what its subject is and returning text."""

    module: str
    function: str

    def resolve(self) -> Callable[[Any], str]:
        found: Callable[[Any], str] = getattr(import_module(f"{__name__}.{self.module}"), self.function)
        return found


# Which format renders what. Each subject lists its formats in the order its --help names them.
RENDERERS: Final[Mapping[Subject, Mapping[Format, Renderer]]] = {
    Subject.REPORT: {
        Format.TEXT: Renderer("text", "render"),
        Format.JSON: Renderer("json_format", "render"),
        Format.JUNIT: Renderer("junit", "render"),
        Format.SARIF: Renderer("sarif", "render"),
        Format.GITHUB: Renderer("github", "render"),
        Format.MARKDOWN: Renderer("markdown", "render"),
    },
    Subject.LINT: {
        Format.TEXT: Renderer("text", "render_lint"),
        Format.JSON: Renderer("json_format", "render_lint"),
        Format.GITHUB: Renderer("github", "render_lint"),
        Format.SARIF: Renderer("sarif", "render_lint"),
        Format.JUNIT: Renderer("junit", "render_lint"),
    },
    Subject.PLAN: {
        Format.TEXT: Renderer("text", "render_plan"),
        Format.JSON: Renderer("json_format", "render_plan"),
    },
}

# GitHub's step summary ($GITHUB_STEP_SUMMARY) is the report a pull-request comment gets.
STEP_SUMMARY: Final = Format.MARKDOWN


class UnsupportedFormat(ValidatorError):
    """A format the command does not write (`lint --format markdown`): a usage error, in one line."""


def formats_for(subject: Subject) -> tuple[Format, ...]:
    return tuple(RENDERERS[subject])


@overload
def renderer(fmt: Format, subject: Literal[Subject.REPORT]) -> Callable[[Report], str]: ...
@overload
def renderer(fmt: Format, subject: Literal[Subject.LINT]) -> Callable[[LintResult], str]: ...
@overload
def renderer(fmt: Format, subject: Literal[Subject.PLAN]) -> Callable[[Plan], str]: ...
def renderer(fmt: Format, subject: Subject) -> Callable[[Any], str]:
    """The function that renders `subject` as `fmt`; UnsupportedFormat when there is none."""
    found = RENDERERS[subject].get(Format(fmt))
    if found is None:
        choices = ", ".join(formats_for(subject))
        raise UnsupportedFormat(f"unknown format {str(fmt)!r} for {subject} ({choices})")
    return found.resolve()


def render(fmt: Format, report: Report) -> str:
    """`validate`'s report as `fmt`."""
    return renderer(fmt, Subject.REPORT)(report)


def render_lint(fmt: Format, result: LintResult) -> str:
    """`lint`'s result as `fmt`."""
    return renderer(fmt, Subject.LINT)(result)


def render_plan(fmt: Format, plan: Plan) -> str:
    """`plan`'s plan as `fmt`."""
    return renderer(fmt, Subject.PLAN)(plan)


def step_summary(report: Report) -> str:
    """Markdown for `$GITHUB_STEP_SUMMARY`: the same summary a pull-request comment gets."""
    return render(STEP_SUMMARY, report)
