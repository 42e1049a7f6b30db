"""Reading a sandbox config: bytes → YAML (`validator.spec.yamlnodes`, as connector.yaml) → the JSON Schema.

Every error is one line that names the place (`file:line:col: tokens[2].status: ...`) and never echoes a
token value or client secret, so it is safe to paste into a bug report. The schema,
`config.schema.json` beside this module, decides the shape; this module only explains its errors. What
needs the route table or several fields at once is checked where the config is built (`config.py`).
"""

from __future__ import annotations

import functools
import json
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

import yaml

from validator.errors import ExitCode, ValidatorError
from validator.model import Position
from validator.spec.yamlnodes import Document, Located, NodeProblem, child_path, parse_document

if TYPE_CHECKING:
    from jsonschema import ValidationError
    from jsonschema.protocols import Validator

SCHEMA_PATH = Path(__file__).with_name("config.schema.json")
MAX_CONFIG_BYTES = 4 * 1024 * 1024

Step = str | int
# Mappings whose keys are data (route keys), shown quoted like `missing_permission_style['GET /me']`.
_KEYED_BY_DATA = frozenset({"missing_permission_style"})
# Messages for one property, by the schema keyword it fails; the rest are worded by keyword below.
_MESSAGES: dict[tuple[str, str], str] = {
    ("workspaces", "minItems"): "at least one workspace is needed",
    ("admins", "minItems"): "at least one admin is needed (tokens act for an admin)",
    ("redirect_urls", "minItems"): "at least one redirect URL is needed",
    ("missing_permission_style", "type"): "expected a mapping of route → style",
}
_TOKEN_VALUE = "expected a non-empty string without spaces"


class SandboxConfigError(ValidatorError):
    """A sandbox configuration that cannot be used; the message is one line, with file:line:col if known.

    Exit code 2 when it ends `connector-validator sandbox`."""

    exit_code = ExitCode.USAGE


class Places:
    """Where each value of a config was written (nothing for plain Python data), and how to name it."""

    def __init__(self, source: str, document: Document | None = None) -> None:
        self.source = source
        self._document = document

    def fail(
        self,
        steps: Sequence[Step],
        message: str,
        *,
        at_key: bool = False,
        shown: Sequence[Step] | None = None,
    ) -> NoReturn:
        """Raise the error about the value at `steps` (placed at its key if `at_key`), named `shown`."""
        located = self._located(steps)
        position = None
        if located is not None:
            position = located.key_position if at_key else _public_position(located)
        where = f"{self.source}:{position.line}:{position.col}" if position else self.source
        raise SandboxConfigError(f"{where}: {shown_path(steps if shown is None else shown)}: {message}")

    def _located(self, steps: Sequence[Step]) -> Located | None:
        if self._document is None:
            return None
        path = "$"
        for step in steps:
            path = child_path(path, step)
        return self._document.values.get(path)


def shown_path(steps: Sequence[Step]) -> str:
    """How messages name a place: `$`, `tokens[0].status`, `workspaces[0].missing_permission_style['x']`."""
    text = ""
    for index, step in enumerate(steps):
        if isinstance(step, int):
            text += f"[{step}]"
        elif index and steps[index - 1] in _KEYED_BY_DATA:
            text += f"[{step!r}]"
        else:
            text += f".{step}" if text else step
    return text or "$"


def _public_position(located: Located) -> Position:
    """A mapping or list at its key, a scalar at its value (an empty one at its key), `$` at 1:1."""
    if located.path == "$":
        return Position(1, 1)
    if (located.is_collection or located.is_empty) and located.key_position is not None:
        return located.key_position
    return located.position


# --- the file and its YAML ------------------------------------------------------------------------------


def read_file(path: Path) -> tuple[Mapping[str, Any], Places]:
    """The data of a config file, as a mapping, and where its values are; YAML problems raise."""
    raw = _read_bytes(path)
    document = parse_document(raw)
    if document.problems:
        problem = min(document.problems, key=lambda p: (p.position.line, p.position.col))
        where = f"{path}:{problem.position.line}:{problem.position.col}"
        raise SandboxConfigError(f"{where}: {_yaml_message(problem, document, raw)}")
    if not isinstance(document.data, Mapping):
        start = document.root.position if document.root else Position(1, 1)
        raise SandboxConfigError(f"{path}:{start.line}:{start.col}: the sandbox config must be a mapping")
    return document.data, Places(str(path), document)


def _read_bytes(path: Path) -> bytes:
    try:
        # Checked before opening: opening a FIFO blocks until a writer appears, and a device never ends.
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise SandboxConfigError(f"{path}: cannot read sandbox config: it is {kind}")
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise SandboxConfigError(
                f"{path}: the sandbox config is over {MAX_CONFIG_BYTES // 1024} KiB; is this the right file?"
            )
        return path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SandboxConfigError(f"{path}: cannot read sandbox config: {reason}") from None


def _yaml_message(problem: NodeProblem, document: Document, raw: bytes) -> str:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "the sandbox config is not UTF-8 text; save it as UTF-8"
    reason = _unbuildable(document.values.get(problem.json_path))
    if reason is not None:
        # A value YAML recognised but cannot build: the date 2020-13-45, an integer of 5000 digits.
        return f"a value in the sandbox config cannot be read: {reason}"
    # yamlnodes words its refusals for a connector.yaml; the YAML rules are the same here.
    return problem.message.replace("a connector.yaml", "a sandbox config")


def _unbuildable(located: Located | None) -> str | None:
    """Why YAML could not build this scalar (PyYAML's own words), or None if that is not the problem."""
    if located is None or located.source is None or located.value is not None:
        return None
    try:
        yaml.SafeLoader("").construct_object(yaml.ScalarNode(located.tag, located.source))
    except (ValueError, OverflowError) as exc:
        return " ".join(str(exc).split())
    except yaml.YAMLError:
        return None
    return None


# --- the schema -----------------------------------------------------------------------------------------


def check_shape(data: object, places: Places) -> None:
    """Raise the first way `data` breaks the schema, in the schema's order (keys before values)."""
    error = next(iter(_validator().iter_errors(cast(Any, data))), None)
    if error is not None:
        _explain(error, places)


@functools.cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@functools.cache
def _validator() -> Validator:
    from jsonschema import Draft202012Validator, validators  # ~0.1 s: only when a config is read

    # Python's types as the loader has always read them: a bool is no number, 1.0 no integer, a tuple
    # a list (SandboxConfig.from_dict takes plain Python data too).
    checker = Draft202012Validator.TYPE_CHECKER.redefine_many(
        {
            "integer": lambda _, value: isinstance(value, int) and not isinstance(value, bool),
            "number": lambda _, value: isinstance(value, int | float) and not isinstance(value, bool),
            "array": lambda _, value: isinstance(value, list | tuple),
            "object": lambda _, value: isinstance(value, Mapping),
        }
    )
    strict = validators.extend(Draft202012Validator, type_checker=checker)  # type: ignore[no-untyped-call]
    return cast("Validator", strict(schema()))


def _explain(error: ValidationError, places: Places) -> NoReturn:
    steps = list(error.absolute_path)
    name = next((str(step) for step in reversed(steps) if isinstance(step, str)), "")
    rule = cast(dict[str, Any], error.schema)
    keyword = str(error.validator)
    instance = error.instance
    if keyword == "type" and instance is None and "minItems" in rule:
        keyword = "minItems"  # null reads as an empty list
    if (name, keyword) in _MESSAGES:
        places.fail(steps, _MESSAGES[name, keyword])
    if keyword == "additionalProperties":
        known = list(cast(dict[str, object], rule.get("properties", {})))
        unknown = sorted(str(key) for key in cast(Mapping[str, object], instance) if key not in known)
        message = f"unknown key {unknown[0]!r} (allowed: {', '.join(known)})"
        places.fail([*steps, unknown[0]], message, at_key=True, shown=steps)
    if keyword == "required":
        present = cast(Mapping[str, object], instance)
        missing = next(key for key in cast(list[str], rule["required"]) if key not in present)
        places.fail(steps, f"missing required key {missing!r}")
    if rule.get("type") == "string":  # the token value, the only plain string
        places.fail(steps, _TOKEN_VALUE)
    places.fail(steps, _wording(keyword, rule, instance))


def _wording(keyword: str, rule: Mapping[str, Any], instance: object) -> str:
    expected = rule.get("type")
    kinds = set(expected) if isinstance(expected, list) else {expected}
    if keyword == "enum":
        return f"{instance!r} is not one of {', '.join(str(choice) for choice in rule['enum'])}"
    if keyword == "maximum":
        return f"expected an integer <= {rule['maximum']}"
    if keyword in ("type", "minimum") and "integer" in kinds:
        return f"expected an integer >= {rule.get('minimum', 0)}"
    if keyword == "pattern" or "number" in kinds:
        return "expected a non-empty string"
    if "object" in kinds:
        return f"expected a mapping, got {type(instance).__name__}"
    if "array" in kinds or keyword == "anyOf":  # anyOf: permissions, a list unless all or none
        return f"expected a list, got {type(instance).__name__}"
    return f"does not match the sandbox config schema ({keyword})"  # no such rule in the schema today
