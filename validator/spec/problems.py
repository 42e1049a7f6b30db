"""What is wrong with a connector.yaml: the problems, the errors that carry them, and where a value is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from validator.model import Position
from validator.spec.yamlnodes import Located

ROOT = "$"
START = Position(1, 1)


@dataclass(frozen=True, order=True)
class SpecProblem:
    """One thing wrong with a connector.yaml, where it is, and the JSON path of the value concerned."""

    file: str
    line: int
    col: int
    message: str
    json_path: str

    @property
    def position(self) -> Position:
        return Position(self.line, self.col)

    def format(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message} ({self.json_path})"


class SpecLoadError(Exception):
    """Base of the errors `load_spec` raises."""


class SpecError(SpecLoadError):
    """The file was read but is not a valid connector.yaml. str() is the first problem, on one line."""

    def __init__(self, problems: Sequence[SpecProblem]) -> None:
        if not problems:
            raise ValueError("SpecError needs at least one problem")
        self.problems: tuple[SpecProblem, ...] = tuple(problems)
        super().__init__(self.problems[0].format())


class SpecFileError(SpecLoadError):
    """The file could not be read at all (missing, a directory, no permission)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: cannot read: {reason}")


@dataclass(frozen=True)
class Found:
    """A problem before it is tied to a file."""

    position: Position
    message: str
    json_path: str


def under_any(path: str, roots: set[str]) -> bool:
    return any(path == root or path.startswith((root + ".", root + "[")) for root in roots)


def value_position(located: Located | None) -> Position:
    if located is None:
        return START
    if located.is_empty and located.key_position is not None:
        return located.key_position  # `name:` with nothing after it: the key is what the user sees
    return located.position


def public_position(located: Located | None) -> Position:
    """Where a path "is" for the user: a mapping or list at its key, a scalar at its value, `$` at 1:1."""
    if located is None or located.path == ROOT:
        return START
    if (located.is_collection or located.is_empty) and located.key_position is not None:
        return located.key_position
    return located.position
