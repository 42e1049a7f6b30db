"""The structure of a connector.yaml: the schema decides, this code only explains.

`schemas/connector.schema.json` is the single source of truth for what the file may contain. Each jsonschema
error is turned into a message that says what to write instead, including the YAML 1.1 traps (`2.10` read as
2.1, `no` read as false).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from validator.model import Access
from validator.schemas import load_schema
from validator.spec.problems import ROOT, Found, public_position, value_position
from validator.spec.yamlnodes import Document, Located, child_path

if TYPE_CHECKING:
    from jsonschema import ValidationError

SCHEMA_NAME = "connector.schema.json"

# Hints for the schema's patterns, by pattern; a test checks that every pattern in the schema has one.
_NAME_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]*$"
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_C1 = re.compile("[\x80-\x9f]")
PATTERN_HINTS: Mapping[str, str] = {
    r"^[A-Za-z_][A-Za-z0-9_]*$": (
        "is not an environment variable name (letters, digits and _, not starting with a digit); "
        "name the variable here, not its value"
    ),
    r"^(2\.\d+|Preview)$": 'is not an Intercom API version; write it quoted, like "2.16", or Preview',
    r"^[A-Za-z0-9_-]+$": "is not a workspace id: use the app id_code, letters, digits, _ and - only",
    r"^[a-z_]+\.(read|write)$": "is not a permission; write <data_type>.<read|write>, like tags.write",
    r"\S": "holds only spaces; say why the problem is accepted",
    r"^\d{4}-\d{2}-\d{2}$": "is not a date; write YYYY-MM-DD, like 2027-01-31",
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


def required_keys() -> str:
    return ", ".join(cast(list[str], load_schema(SCHEMA_NAME)["required"]))


def schema_problems(document: Document) -> Iterator[Found]:
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
    path = ROOT
    for step in error.absolute_path:
        path = child_path(path, step)
    return path


def _explain(error: ValidationError, document: Document) -> Iterator[Found]:
    path = _json_path(error)
    located = document.values.get(path)
    schema = cast(dict[str, Any], error.schema)
    match error.validator:
        case "additionalProperties":
            yield from _unknown_keys(path, cast(dict[str, object], error.instance), schema, document)
        case "required":
            yield from _missing_keys(path, cast(dict[str, object], error.instance), schema, document)
        case "type":
            yield Found(value_position(located), _wrong_type(path, located, schema), path)
        case "enum" | "const":
            yield Found(value_position(located), _wrong_choice(path, located, error.instance, schema), path)
        case "pattern":
            hint = PATTERN_HINTS.get(str(error.validator_value), f"does not match {error.validator_value}")
            if error.validator_value == _NAME_PATTERN:
                hint = _name_hint(error.instance)
            yield Found(value_position(located), f"{_label(path)}: {_shown(error.instance)} {hint}", path)
        case "minLength":
            yield Found(value_position(located), f"{_label(path)} must not be empty", path)
        case "maxLength":
            limit = error.validator_value
            yield Found(value_position(located), f"{_label(path)} is longer than {limit} characters", path)
        case "minItems":
            key = located.key if located else _label(path)
            message = f"{_label(path)} lists no access levels; write {key}: [read], or remove it"
            yield Found(public_position(located), message, path)
        case "uniqueItems":
            yield from _duplicate_items(path, cast(list[object], error.instance), document)
        case "minProperties":
            message = f"{_label(path)} declares nothing; declare at least one data type, e.g. people: [read]"
            yield Found(public_position(located), message, path)
        case _:
            yield Found(value_position(located), f"{_label(path)}: {' '.join(error.message.split())}", path)


def _unknown_keys(
    path: str, instance: Mapping[str, object], schema: Mapping[str, Any], document: Document
) -> Iterator[Found]:
    known = list(cast(dict[str, object], schema.get("properties", {})))
    noun = "data type" if path in ("$.permissions", "$.policy.forbidden") else "key"
    where = "" if path == ROOT else f" in {_label(path)}"
    for key in instance:
        if key in known:
            continue
        key_path = child_path(path, key)
        located = document.values.get(key_path)
        message = f"unknown {noun} {_shown(key)}{where}; " + _suggest(key, known)
        # At the key, as yaml-language-server reports it: the key is what is unknown, not its value.
        position = located.key_position if located and located.key_position else public_position(located)
        yield Found(position, message, key_path)


def _suggest(given: str, choices: Sequence[str]) -> str:
    """A "did you mean" for near misses (`regoin`, `People`), else the list to choose from."""
    by_lower = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(given.lower(), list(by_lower), n=1, cutoff=0.6)
    if close:
        return f"did you mean '{by_lower[close[0]]}'?"
    return "expected one of: " + ", ".join(choices)


def _missing_keys(
    path: str, instance: Mapping[str, object], schema: Mapping[str, Any], document: Document
) -> Iterator[Found]:
    properties = cast(dict[str, dict[str, Any]], schema.get("properties", {}))
    where = "" if path == ROOT else f" in {_label(path)}"
    for key in cast(list[str], schema["required"]):
        if key not in instance:
            title = properties.get(key, {}).get("title", key)
            message = f"missing required key '{key}'{where} ({str(title).lower()})"
            yield Found(public_position(document.values.get(path)), message, child_path(path, key))


def _duplicate_items(path: str, items: Sequence[object], document: Document) -> Iterator[Found]:
    seen: list[object] = []
    for index, item in enumerate(items):
        if item in seen:
            item_path = child_path(path, index)
            message = f"{_shown(item)} is listed twice in {_label(path)}; list each access level once"
            yield Found(value_position(document.values.get(item_path)), message, item_path)
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
            f"{_label(path)}: {value} was read as {located.kind} (YAML 1.1), and {_shown(value)} is not "
            f"valid here either; {_suggest(value, choices)}"
        )
    read_only = re.fullmatch(
        r"\$\.(?:permissions|policy\.forbidden)\.(workspace_counts|segments|admin_activity_logs)\[\d+\]", path
    )
    if read_only and value == Access.WRITE:
        key = read_only.group(1)
        return f"Intercom has no write permission for {key.replace('_', ' ')}; declare {key}: [read]"
    if path == "$.version" and isinstance(value, int):
        return f"unsupported format version {value}; this connector-validator reads version 1"
    if path == "$.platform":
        return "platform must be 'intercom', the only platform format version 1 supports"
    what = "access level" if path.startswith(("$.permissions.", "$.policy.forbidden.")) else _label(path)
    shown = f"{_shown(value)} is not a valid {what}" if isinstance(value, str) else f"{what} is not valid"
    suggestion = (
        _suggest(value, choices) if isinstance(value, str) else "expected one of: " + ", ".join(choices)
    )
    return f"{shown}; {suggestion}"


def _label(path: str) -> str:
    """How the user names a place: `workspace.region`, `permissions.people[1]`."""
    return path.removeprefix("$.").removeprefix("$") or "the file"


def _shown(value: object) -> str:
    """A value fit to quote in a message, quoted like `repr`: one line, short, and every character that
    would not show escaped (`'read '`, `'re\\tad'`, `'people\\u200b'`), so that a trailing space, a tab or a
    zero-width character is visible in a terminal and in a CI annotation."""
    text = str(value)
    if len(text) > 40:
        return repr(text[:37]) + "..."
    return repr(text)  # escapes what str.isprintable refuses: controls, zero-width, bidi, odd spaces
