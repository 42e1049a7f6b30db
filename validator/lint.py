"""`lint`: check connector.yaml files on their own, without a token.

`lint_paths` gathers a result per file; every format renders that result (`validator.formats`, subject
`lint`), and the CLI prints it and exits with `LintResult.exit_code`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from validator.errors import ExitCode
from validator.spec import SpecError, SpecFileError, SpecProblem, load_spec, parse_spec
from validator.spec.reading import MAX_SPEC_BYTES

STDIN = "-"  # the path that means standard input
STDIN_NAME = "<stdin>"  # what problems in standard input are reported under, unless named


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


def lint_stdin(stdin: BinaryIO | None, name: str) -> FileResult:
    """connector.yaml read from standard input, its problems reported under `name`."""
    if stdin is None:
        return FileResult(name, error="standard input is closed")
    try:
        raw = stdin.read(MAX_SPEC_BYTES + 1)  # one byte more than allowed tells an oversized file
    except (OSError, ValueError) as error:  # ValueError: a closed stream
        return FileResult(name, error=getattr(error, "strerror", None) or "standard input cannot be read")
    try:
        parse_spec(raw, name)
    except SpecError as error:
        return FileResult(name, problems=error.problems)
    return FileResult(name)


def lint_paths(
    paths: Sequence[Path], *, stdin: BinaryIO | None = None, stdin_name: str | None = None
) -> LintResult:
    """Lint each file in order; one bad file never stops the others from being checked. The path `-` is
    standard input (read once: a second `-` finds it empty), reported as `stdin_name`."""
    results = [
        lint_stdin(stdin, stdin_name or STDIN_NAME) if str(path) == STDIN else lint_path(path)
        for path in paths
    ]
    return LintResult(tuple(results))
