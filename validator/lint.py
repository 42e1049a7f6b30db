"""`lint`: check connector.yaml files on their own, without a token.

`lint_paths` gathers a result per file; every format renders that result (`validator.formats`, subject
`lint`), and the CLI prints it and exits with `LintResult.exit_code`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from validator.errors import ExitCode
from validator.model import ConnectorSpec, utc_today
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
    warnings: tuple[SpecProblem, ...] = ()  # well formed, but `validate` will fail it (an expired waiver)

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
    def warnings(self) -> tuple[SpecProblem, ...]:
        """Every warning of every file; warnings never change the exit code."""
        return tuple(warning for file in self.files for warning in file.warnings)

    @property
    def exit_code(self) -> ExitCode:
        """OK when every file is valid, FAILED when any is invalid, USAGE when one is unreadable or none was
        given (the command line needs fixing)."""
        if not self.files or any(file.error is not None for file in self.files):
            return ExitCode.USAGE
        return ExitCode.OK if all(file.valid for file in self.files) else ExitCode.FAILED


def lint_path(path: Path, today: dt.date | None = None) -> FileResult:
    try:
        spec = load_spec(path)
    except SpecFileError as error:
        return FileResult(str(path), error=error.reason)
    except SpecError as error:
        return FileResult(str(path), problems=error.problems)
    return FileResult(str(path), warnings=spec_warnings(spec, today or utc_today()))


def lint_stdin(stdin: BinaryIO | None, name: str, today: dt.date | None = None) -> FileResult:
    """connector.yaml read from standard input, its problems reported under `name`."""
    if stdin is None:
        return FileResult(name, error="standard input is closed")
    try:
        raw = stdin.read(MAX_SPEC_BYTES + 1)  # one byte more than allowed tells an oversized file
    except (OSError, ValueError) as error:  # ValueError: a closed stream
        return FileResult(name, error=getattr(error, "strerror", None) or "standard input cannot be read")
    try:
        spec = parse_spec(raw, name)
    except SpecError as error:
        return FileResult(name, problems=error.problems)
    return FileResult(name, warnings=spec_warnings(spec, today or utc_today()))


def lint_paths(
    paths: Sequence[Path],
    today: dt.date | None = None,
    *,
    stdin: BinaryIO | None = None,
    stdin_name: str | None = None,
) -> LintResult:
    """Lint each file in order; one bad file never stops the others from being checked. The path `-` is
    standard input (read once: a second `-` finds it empty), reported as `stdin_name`. `today` is the date
    waivers are judged on (tests pin it); by default today's date in UTC."""
    results = [
        lint_stdin(stdin, stdin_name or STDIN_NAME, today) if str(path) == STDIN else lint_path(path, today)
        for path in paths
    ]
    return LintResult(tuple(results))


def spec_warnings(spec: ConnectorSpec, today: dt.date) -> tuple[SpecProblem, ...]:
    """What is well formed but will fail `validate`: each waiver that has expired."""
    found: list[SpecProblem] = []
    for index, waiver in enumerate(spec.policy.waivers):
        if waiver.expired(today):
            json_path = f"$.policy.waivers[{index}].expires"
            position = spec.positions.get(json_path) or waiver.position
            line, col = (position.line, position.col) if position else (1, 1)
            message = (
                f"the waiver for {waiver.permission} expired on {waiver.expires.isoformat()}: `validate` "
                "fails until it is renewed (a later `expires`) or removed"
            )
            found.append(SpecProblem(spec.path, line, col, message, json_path))
    return tuple(found)
