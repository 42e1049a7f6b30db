"""connector.yaml → ConnectorSpec, or every problem in the file with its line:col and JSON path.

The order of checks: bytes (size), YAML (`yamlnodes`: encoding, syntax, duplicates, aliases), secrets
(code: they must never be echoed), then structure against `schemas/connector.schema.json`, the single
source of truth for what the file may contain. Each jsonschema error is turned into a message that says
what to write instead, including the YAML 1.1 traps (`2.10` read as 2.1, `no` read as false).
"""

from __future__ import annotations

import difflib
import re
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from validator.model import (
    Access,
    Auth,
    AuthMode,
    ConnectorSpec,
    DataType,
    Permission,
    Position,
    Region,
    Workspace,
)
from validator.schemas import load_schema
from validator.yamlnodes import Document, Located, child_path, parse_document

if TYPE_CHECKING:
    from jsonschema import ValidationError

SCHEMA_NAME = "connector.schema.json"
MAX_SPEC_BYTES = 1024 * 1024  # a real connector.yaml is a few hundred bytes; anything this big is a mistake

_ROOT = "$"
_START = Position(1, 1)

# Key names that hold a secret. `*_env` keys name the environment variable that holds one, and are fine.
_SECRET_KEY = re.compile(
    r"token|secret|passw(?:or)?d|api[_-]?key|access[_-]?key|private[_-]?key", re.IGNORECASE
)
# Intercom access tokens are base64 of "tok:..." (API-NOTES §1).
_TOKEN_MARK = "dG9rOj"
_REDACTED = "<redacted>"

_SECRET_ADVICE = (
    "never put secrets in connector.yaml: put the secret in an environment variable and name that "
    "variable in auth.token_env (auth.client_secret_env for an OAuth client secret)"
)
_TOKEN_ADVICE = (
    "never put a token in connector.yaml: put it in an environment variable and name that variable in "
    "auth.token_env; if this file was ever committed, revoke the token"
)

# Hints for the schema's patterns, by pattern; a test checks that every pattern in the schema has one.
# Characters no message may carry as they are: C0 and C1 controls (escape sequences, line breaks that would
# start a CI workflow command), bidirectional overrides and isolates (text displayed in another order than
# it is stored: "Trojan Source"), and lone surrogates (not characters; they cannot be encoded as UTF-8).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAME_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]*$"
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_C1 = re.compile("[\x80-\x9f]")
PATTERN_HINTS: Mapping[str, str] = {
    r"^[A-Za-z_][A-Za-z0-9_]*$": (
        "is not an environment variable name (letters, digits and _, not starting with a digit); "
        "name the variable here, not its value"
    ),
    r"^2\.\d+$": 'is not an Intercom API version; write it quoted, like "2.15"',
    r"^[A-Za-z0-9_-]+$": "is not a workspace id: use the app id_code, letters, digits, _ and - only",
    _NAME_PATTERN: (
        "holds control characters (a line break or an escape sequence); a name is one line of plain text"
    ),
}


def _name_hint(value: object) -> str:
    """The hint for a name refused by `_NAME_PATTERN`, naming the first character that is not allowed."""
    text = str(value)
    if not re.search("[\x00-\x1f\x7f]", text):
        bidi = _BIDI.search(text)
        if bidi:
            return (
                f"holds U+{ord(bidi.group()):04X}, a bidirectional override: the name would display in "
                "another order than it is written; a name is one line of plain text"
            )
        c1 = _C1.search(text)
        if c1:
            return f"holds U+{ord(c1.group()):04X}, a C1 control character; a name is one line of plain text"
    return PATTERN_HINTS[_NAME_PATTERN]


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


def load_spec(path: Path) -> ConnectorSpec:
    """Read and check the connector.yaml at `path`.

    Raises SpecFileError when the file cannot be read and SpecError, carrying every problem sorted by
    position, when it is not a valid connector.yaml.
    """
    return parse_spec(_read_bytes(path), str(path))


def parse_spec(raw: bytes, file: str) -> ConnectorSpec:
    """Check connector.yaml content `raw`; `file` is the name to report problems under."""
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError([_oversize_problem(file, len(raw))])
    document = parse_document(raw)
    problems = list(_problems(document))
    if problems:
        raise SpecError(_finish(problems, file))
    return _build_spec(document, file)


def _read_bytes(path: Path) -> bytes:
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            # Checked before opening: opening a FIFO blocks until a writer appears, and a device never ends.
            raise SpecFileError(str(path), _not_regular(status.st_mode))
        if status.st_size > MAX_SPEC_BYTES:  # checked before reading, so a huge file costs nothing
            raise SpecError([_oversize_problem(str(path), status.st_size)])
        with path.open("rb") as stream:
            return stream.read(MAX_SPEC_BYTES + 1)
    except FileNotFoundError:
        raise SpecFileError(str(path), "no such file") from None
    except IsADirectoryError:
        raise SpecFileError(str(path), "it is a directory") from None
    except OSError as error:
        raise SpecFileError(str(path), error.strerror or type(error).__name__) from None


def _not_regular(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "it is a directory"
    kinds = {
        stat.S_ISFIFO: "a named pipe (FIFO)",
        stat.S_ISCHR: "a device",
        stat.S_ISBLK: "a device",
        stat.S_ISSOCK: "a socket",
    }
    kind = next((name for test, name in kinds.items() if test(mode)), "something else")
    return f"it is {kind}, not a regular file; give the path of a connector.yaml file"


def _oversize_problem(file: str, size: int) -> SpecProblem:
    message = (
        f"the file is {size} bytes, over the {MAX_SPEC_BYTES // 1024 // 1024} MiB limit for a "
        "connector.yaml; is this the right file?"
    )
    return SpecProblem(file, _START.line, _START.col, message, _ROOT)


@dataclass(frozen=True)
class _Found:
    """A problem before it is tied to a file."""

    position: Position
    message: str
    json_path: str


def _problems(document: Document) -> Iterator[_Found]:
    yield from (_Found(p.position, p.message, p.json_path) for p in document.problems)
    if document.root is None:
        if not document.problems:
            yield _Found(
                _START, "the file is empty; a connector.yaml needs at least " + _required_keys(), _ROOT
            )
        return
    secret_paths: set[str] = set()
    yield from _secret_problems(document, secret_paths)  # even in a file that is wrong in every other way
    if not isinstance(document.data, dict):
        message = f"the top level must be a mapping of keys ({_required_keys()}), not {document.root.kind}"
        yield _Found(document.root.position, message, _ROOT)
        return
    quiet = document.reported | secret_paths
    yield from (found for found in _schema_problems(document) if not _under_any(found.json_path, quiet))


def _finish(found: Iterable[_Found], file: str) -> list[SpecProblem]:
    unique = {
        SpecProblem(file, f.position.line, f.position.col, _redact(f.message), _redact(f.json_path))
        for f in found
    }
    return sorted(unique)


def _redact(text: str) -> str:
    """Last line of defence: no message may carry a token, whatever check produced it, nor a control
    character from the file (an escape sequence, or a line break that would start a CI workflow command)."""
    text = re.sub(rf"{_TOKEN_MARK}\S*", _REDACTED, text)
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)


def _required_keys() -> str:
    return ", ".join(cast(list[str], load_schema(SCHEMA_NAME)["required"]))


def _under_any(path: str, roots: set[str]) -> bool:
    return any(path == root or path.startswith((root + ".", root + "[")) for root in roots)


# --- secrets: checked in code, because the schema's messages would echo the value -----------------------


def _secret_problems(document: Document, secret_paths: set[str]) -> Iterator[_Found]:
    for located in document.all_values():
        if _under_any(located.path, secret_paths):
            continue  # already reported where the secret starts
        problem = _secret_problem(located)
        if problem is not None:
            secret_paths.add(located.path)
            yield problem


def _secret_problem(located: Located) -> _Found | None:
    key = located.key
    where = located.key_position or located.position
    if key is not None and _TOKEN_MARK in key:
        return _Found(where, f"this key looks like an Intercom access token; {_TOKEN_ADVICE}", located.path)
    if key is not None and _SECRET_KEY.search(key) and not key.lower().endswith("_env"):
        return _Found(where, f"the key '{key}' looks like it holds a secret; {_SECRET_ADVICE}", located.path)
    if isinstance(located.value, str) and _TOKEN_MARK in located.value:
        if located.path == "$.auth.token_env":
            message = (
                "auth.token_env must name the environment variable that holds the token, not the token "
                f"itself (e.g. token_env: INTERCOM_ACCESS_TOKEN); {_TOKEN_ADVICE}"
            )
        else:
            message = f"this value looks like an Intercom access token; {_TOKEN_ADVICE}"
        return _Found(located.position, message, located.path)
    return None


# --- structure: the schema decides, this code only explains --------------------------------------------


def _schema_problems(document: Document) -> Iterator[_Found]:
    from jsonschema import Draft202012Validator  # costs ~0.1 s; only `lint`/`validate` need it

    validator = Draft202012Validator(load_schema(SCHEMA_NAME))
    errors = list(validator.iter_errors(document.data))
    # A value of the wrong type also fails its enum/pattern; the type is the one worth reporting.
    mistyped = {_json_path(e) for e in errors if e.validator == "type"}
    for error in errors:
        if error.validator != "type" and _json_path(error) in mistyped:
            continue
        yield from _explain(error, document)


def _json_path(error: ValidationError) -> str:
    path = _ROOT
    for step in error.absolute_path:
        path = child_path(path, step)
    return path


def _explain(error: ValidationError, document: Document) -> Iterator[_Found]:
    path = _json_path(error)
    located = document.values.get(path)
    schema = cast(dict[str, Any], error.schema)
    match error.validator:
        case "additionalProperties":
            yield from _unknown_keys(path, cast(dict[str, object], error.instance), schema, document)
        case "required":
            yield from _missing_keys(path, cast(dict[str, object], error.instance), schema, document)
        case "type":
            yield _Found(_value_position(located), _wrong_type(path, located, schema), path)
        case "enum" | "const":
            yield _Found(_value_position(located), _wrong_choice(path, located, error.instance, schema), path)
        case "pattern":
            hint = PATTERN_HINTS.get(str(error.validator_value), f"does not match {error.validator_value}")
            if error.validator_value == _NAME_PATTERN:
                hint = _name_hint(error.instance)
            yield _Found(_value_position(located), f"{_label(path)}: '{_shown(error.instance)}' {hint}", path)
        case "minLength":
            yield _Found(_value_position(located), f"{_label(path)} must not be empty", path)
        case "maxLength":
            limit = error.validator_value
            yield _Found(_value_position(located), f"{_label(path)} is longer than {limit} characters", path)
        case "minItems":
            key = located.key if located else _label(path)
            message = f"{_label(path)} lists no access levels; write {key}: [read], or remove it"
            yield _Found(_public_position(located), message, path)
        case "uniqueItems":
            yield from _duplicate_items(path, cast(list[object], error.instance), document)
        case "minProperties":
            message = f"{_label(path)} declares nothing; declare at least one data type, e.g. people: [read]"
            yield _Found(_public_position(located), message, path)
        case _:
            yield _Found(_value_position(located), f"{_label(path)}: {' '.join(error.message.split())}", path)


def _unknown_keys(
    path: str, instance: Mapping[str, object], schema: Mapping[str, Any], document: Document
) -> Iterator[_Found]:
    known = list(cast(dict[str, object], schema.get("properties", {})))
    noun = "data type" if path == "$.permissions" else "key"
    where = "" if path == _ROOT else f" in {_label(path)}"
    for key in instance:
        if key in known:
            continue
        key_path = child_path(path, key)
        located = document.values.get(key_path)
        message = f"unknown {noun} '{_shown(key)}'{where}; " + _suggest(key, known)
        yield _Found(_public_position(located), message, key_path)


def _suggest(given: str, choices: Sequence[str]) -> str:
    """A "did you mean" for near misses (`regoin`, `People`), else the list to choose from."""
    by_lower = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(given.lower(), list(by_lower), n=1, cutoff=0.6)
    if close:
        return f"did you mean '{by_lower[close[0]]}'?"
    return "expected one of: " + ", ".join(choices)


def _missing_keys(
    path: str, instance: Mapping[str, object], schema: Mapping[str, Any], document: Document
) -> Iterator[_Found]:
    properties = cast(dict[str, dict[str, Any]], schema.get("properties", {}))
    where = "" if path == _ROOT else f" in {_label(path)}"
    for key in cast(list[str], schema["required"]):
        if key not in instance:
            title = properties.get(key, {}).get("title", key)
            message = f"missing required key '{key}'{where} ({str(title).lower()})"
            yield _Found(_public_position(document.values.get(path)), message, child_path(path, key))


def _duplicate_items(path: str, items: Sequence[object], document: Document) -> Iterator[_Found]:
    seen: list[object] = []
    for index, item in enumerate(items):
        if item in seen:
            item_path = child_path(path, index)
            message = f"'{_shown(item)}' is listed twice in {_label(path)}; list each access level once"
            yield _Found(_value_position(document.values.get(item_path)), message, item_path)
        seen.append(item)


def _wrong_type(path: str, located: Located | None, schema: Mapping[str, Any]) -> str:
    expected = str(schema.get("type"))
    if located is None:
        return f"{_label(path)} must be {_KIND_OF_TYPE.get(expected, expected)}"
    name = _label(path)
    if expected == "string" and located.plain and not located.is_empty and located.source is not None:
        # YAML 1.1 guessed a type for an unquoted word or number: the classic traps.
        source = located.source
        read_as = located.kind
        is_number = isinstance(located.value, float | int) and not isinstance(located.value, bool)
        if is_number and repr(located.value) != source:
            read_as = f"the number {located.value!r}"  # 2.10 -> 2.1: show what was lost
        return f"{name}: {source} was read as {read_as} (YAML 1.1); quote it: {_assignment(located, source)}"
    if located.is_empty:
        return f"{name} has no value; expected {_KIND_OF_TYPE.get(expected, expected)}"
    if expected == "integer" and path == "$.version":
        return "version must be the number 1, unquoted: version: 1"
    if expected == "array" and isinstance(located.value, str) and located.value in set(Access):
        return f"{name} must be a list of access levels: write {located.key}: [{located.value}]"
    return f"{name} must be {_KIND_OF_TYPE.get(expected, expected)}, not {located.kind}"


_KIND_OF_TYPE = {"string": "a string", "integer": "a whole number", "object": "a mapping", "array": "a list"}


def _assignment(located: Located, source: str) -> str:
    return f'{located.key}: "{source}"' if located.key else f'"{source}"'


def _wrong_choice(path: str, located: Located | None, value: object, schema: Mapping[str, Any]) -> str:
    allowed = cast(list[object], schema.get("enum", [schema.get("const")]))
    choices = [str(choice) for choice in allowed]
    wants_words = all(isinstance(choice, str) for choice in allowed)
    if (
        wants_words
        and located is not None
        and located.plain
        and located.source
        and not isinstance(value, str)
    ):
        # `people: [read, yes]`: YAML 1.1 read the word as a boolean before the enum saw it
        value = located.source
        return (
            f"{_label(path)}: {value} was read as {located.kind} (YAML 1.1), and '{_shown(value)}' is not "
            f"valid here either; {_suggest(value, choices)}"
        )
    if re.fullmatch(r"\$\.permissions\.workspace_counts\[\d+\]", path) and value == Access.WRITE:
        return "Intercom has no write permission for workspace counts; declare workspace_counts: [read]"
    if path == "$.version" and isinstance(value, int):
        return f"unsupported format version {value}; this connector-validator reads version 1"
    if path == "$.platform":
        return "platform must be 'intercom', the only platform format version 1 supports"
    what = "access level" if path.startswith("$.permissions.") else _label(path)
    shown = f"'{_shown(value)}' is not a valid {what}" if isinstance(value, str) else f"{what} is not valid"
    suggestion = (
        _suggest(value, choices) if isinstance(value, str) else "expected one of: " + ", ".join(choices)
    )
    return f"{shown}; {suggestion}"


def _label(path: str) -> str:
    """How the user names a place: `workspace.region`, `permissions.people[1]`."""
    return path.removeprefix("$.").removeprefix("$") or "the file"


def _shown(value: object) -> str:
    """A value fit to quote in a message: one line, short."""
    text = " ".join(str(value).split())
    return text if len(text) <= 40 else text[:37] + "..."


def _value_position(located: Located | None) -> Position:
    if located is None:
        return _START
    if located.is_empty and located.key_position is not None:
        return located.key_position  # `name:` with nothing after it: the key is what the user sees
    return located.position


def _public_position(located: Located | None) -> Position:
    """Where a path "is" for the user: a mapping or list at its key, a scalar at its value, `$` at 1:1."""
    if located is None or located.path == _ROOT:
        return _START
    if (located.is_collection or located.is_empty) and located.key_position is not None:
        return located.key_position
    return located.position


# --- building the spec once the file is known to be valid ----------------------------------------------


def _build_spec(document: Document, file: str) -> ConnectorSpec:
    data = cast(dict[str, Any], document.data)
    workspace = cast(dict[str, Any], data["workspace"])
    auth = cast(dict[str, Any], data["auth"])
    # In file order, `$` first, so that the mapping reads like the file.
    located_values = sorted(document.values.values(), key=lambda located: (located.position, located.path))
    positions = {located.path: _public_position(located) for located in located_values}
    permissions: list[Permission] = []
    permission_positions: dict[Permission, Position] = {}
    for data_type, levels in cast(dict[str, list[str]], data["permissions"]).items():
        for index, level in enumerate(levels):
            permission = Permission(DataType(data_type), Access(level))
            permissions.append(permission)
            permission_positions[permission] = positions[f"$.permissions.{data_type}[{index}]"]
    return ConnectorSpec(
        path=file,
        name=data["name"],
        workspace=Workspace(
            id=workspace["id"], name=workspace.get("name"), region=Region(workspace.get("region", Region.US))
        ),
        auth=Auth(
            mode=AuthMode(auth["mode"]),
            **{key: auth[key] for key in ("token_env", "client_id_env", "client_secret_env") if key in auth},
        ),
        permissions=tuple(permissions),
        api_version=data.get("api_version"),
        version=int(data["version"]),
        platform=data["platform"],
        positions=positions,
        permission_positions=permission_positions,
    )
