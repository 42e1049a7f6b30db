"""`lint`: check connector.yaml files on their own, without a token, and render the outcome.

`lint_paths` gathers a result per file; `render_text` and `render_json` are pure functions of that result.
The CLI prints them and exits with `LintResult.exit_code`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from validator.errors import ExitCode
from validator.spec import SpecError, SpecFileError, SpecProblem, load_spec

JSON_FORMAT_VERSION = 1


@dataclass(frozen=True)
class FileResult:
    """The outcome for one file: its problems, or why it could not be read at all (`error`)."""

    path: str
    problems: tuple[SpecProblem, ...] = ()
    error: str | None = None

    @property
    def valid(self) -> bool:
        return self.error is None and not self.problems


@dataclass(frozen=True)
class LintResult:
    files: tuple[FileResult, ...]

    @property
    def problems(self) -> tuple[SpecProblem, ...]:
        """Every problem of every file, file by file, for renderers that list problems flat."""
        return tuple(problem for file in self.files for problem in file.problems)

    @property
    def exit_code(self) -> ExitCode:
        """OK when every file is valid, FAILED when any is invalid, USAGE when one is unreadable or none was
        given (the command line needs fixing)."""
        if not self.files or any(file.error is not None for file in self.files):
            return ExitCode.USAGE
        return ExitCode.OK if all(file.valid for file in self.files) else ExitCode.FAILED


def lint_path(path: Path) -> FileResult:
    try:
        load_spec(path)
    except SpecFileError as error:
        return FileResult(str(path), error=error.reason)
    except SpecError as error:
        return FileResult(str(path), problems=error.problems)
    return FileResult(str(path))


def lint_paths(paths: Sequence[Path]) -> LintResult:
    """Lint each file in order; one bad file never stops the others from being checked."""
    return LintResult(tuple(lint_path(path) for path in paths))


def render_text(result: LintResult) -> str:
    """One line per problem, `path:line:col: message (json.path)`; nothing for a valid file."""
    lines: list[str] = []
    for file in result.files:
        if file.error is not None:
            lines.append(f"{file.path}: cannot read: {file.error}")
        lines.extend(problem.format() for problem in file.problems)
    return "\n".join(lines) + "\n" if lines else ""


def render_json(result: LintResult) -> str:
    """The documented machine-readable shape (README, "lint --format json").

    {"format_version": 1, "files": [{"path", "valid", "error", "problems": [{"line", "col", "message",
    "json_path"}]}]}; `error` is null unless the file could not be read.
    """
    document = {
        "format_version": JSON_FORMAT_VERSION,
        "files": [
            {
                "path": file.path,
                "valid": file.valid,
                "error": file.error,
                "problems": [
                    {"line": p.line, "col": p.col, "message": p.message, "json_path": p.json_path}
                    for p in file.problems
                ],
            }
            for file in result.files
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
