"""Output formats: each a pure function of a `Report`, picked by name.

Formats are imported lazily so that a run only pays for the ones it writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from importlib import import_module
from typing import TYPE_CHECKING

from validator.report import Report

if TYPE_CHECKING:
    from validator.findings import LintProblemLike


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"
    SARIF = "sarif"
    GITHUB = "github"
    MARKDOWN = "markdown"


# Format → module under validator.formats that defines `render(report: Report) -> str`.
_MODULES: dict[Format, str] = {
    Format.TEXT: "text",
    Format.JSON: "json_format",
    Format.JUNIT: "junit",
    Format.SARIF: "sarif",
    Format.GITHUB: "github",
    Format.MARKDOWN: "markdown",
}


def renderer(fmt: Format) -> Callable[[Report], str]:
    module = import_module(f"validator.formats.{_MODULES[fmt]}")
    render: Callable[[Report], str] = module.render
    return render


def render(fmt: Format, report: Report) -> str:
    return renderer(fmt)(report)


def render_lint(name: str, problems: Sequence[LintProblemLike], checked: Sequence[str]) -> str:
    """`lint` problems in the github, sarif or junit format; `checked` names every file that was linted."""
    fmt = Format(name)
    module = import_module(f"validator.formats.{_MODULES[fmt]}")
    if fmt is Format.JUNIT:
        return str(module.render_lint(problems, checked))
    return str(module.render_lint(problems))
