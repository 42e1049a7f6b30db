"""Safe YAML → plain values, keeping the line:col of every key and value.

PyYAML's safe composer builds the node tree; the values are built here rather than by a constructor so
that each one keeps its position, duplicate keys are caught (PyYAML silently keeps the last), and YAML
features a connector.yaml never needs are refused instead of honoured: aliases are never expanded (which
defuses "billion laughs"), and only the standard scalar tags are constructed.

Nothing here knows about connectors; the rest of `validator.spec` gives the values their meaning.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import yaml

from validator.model import Position

_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _NULL, _MERGE = (f"{_TAG}{kind}" for kind in ("str", "map", "seq", "null", "merge"))
# Scalars built with PyYAML's SafeConstructor; any other tag (!!python/..., !custom) is refused unbuilt.
_BUILDABLE_SCALAR_TAGS = frozenset(
    f"{_TAG}{kind}" for kind in ("str", "int", "float", "bool", "null", "timestamp")
)

_KIND_OF_TAG = {
    f"{_TAG}bool": "a boolean",
    f"{_TAG}int": "a number",
    f"{_TAG}float": "a number",
    f"{_TAG}null": "null (no value)",
    f"{_TAG}timestamp": "a date",
    _STR: "a string",
    _MAP: "a mapping",
    _SEQ: "a list",
}

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A lone surrogate (U+D800 to U+DFFF) can only come from a `"\ud800"` escape in a double-quoted scalar: no
# UTF-8 file holds one. Such text cannot be encoded again, so it would crash every report writer.
_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_surrogates(text: str) -> str:
    """`text` with every lone surrogate written as its escape (`\\ud800`), safe to print and encode."""
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _surrogate_message(text: str, what: str) -> str:
    found = _SURROGATE.search(text)
    code = ord(found.group()) if found else 0xD800
    return (
        f"{what} holds the escape \\u{code:04x}, a lone surrogate: it is not a character and cannot be "
        "written as UTF-8; remove it or write the character it was meant to be"
    )


@dataclass(frozen=True)
class NodeProblem:
    """Something wrong with the YAML itself, before its meaning is considered."""

    position: Position
    message: str
    json_path: str


@dataclass(frozen=True)
class Located:
    """One value of the document and where it is written."""

    path: str
    position: Position  # where the value starts
    key: str | None  # the mapping key it is the value of; None for list items and the root
    key_position: Position | None
    value: object
    tag: str  # the YAML tag it was resolved to: tells a number from a string that looks like one
    source: str | None  # the scalar exactly as written, for messages about how YAML read it
    plain: bool  # an unquoted scalar, the only kind YAML 1.1 guesses a type for

    @property
    def kind(self) -> str:
        """What YAML read this value as, in words ("a boolean", "a list")."""
        return kind_of_tag(self.tag)

    @property
    def is_collection(self) -> bool:
        return isinstance(self.value, dict | list)

    @property
    def is_empty(self) -> bool:
        """Written as nothing at all (`name:`), so the key is the only place to point at."""
        return self.tag == _NULL and self.plain and not self.source


@dataclass
class Document:
    """A parsed YAML file: its values by JSON path, and what was wrong with the YAML.

    `root` is None when the file holds no document (empty, or only comments) or could not be parsed at all
    (then `problems` says why). `values` holds what the data is made of; `shadowed` holds values that are
    not part of it (the second occurrence of a duplicate key), still worth scanning for secrets.
    `reported` holds paths whose problems are already in `problems`, so later checks can stay quiet there.
    """

    root: Located | None = None
    values: dict[str, Located] = field(default_factory=dict)
    shadowed: list[Located] = field(default_factory=list)
    problems: list[NodeProblem] = field(default_factory=list)
    reported: set[str] = field(default_factory=set)

    @property
    def data(self) -> object:
        return self.root.value if self.root else None

    def all_values(self) -> Iterator[Located]:
        yield from self.values.values()
        yield from self.shadowed


def kind_of_tag(tag: str) -> str:
    return _KIND_OF_TAG.get(tag, f"a value tagged {short_tag(tag)}")


def short_tag(tag: str) -> str:
    """The tag as it is written in YAML: `!!set` rather than `tag:yaml.org,2002:set`."""
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


def child_path(parent: str, step: str | int) -> str:
    """The JSON path of a mapping key or list index under `parent`: `$.permissions.people[1]`."""
    if isinstance(step, int):
        return f"{parent}[{step}]"
    if _IDENTIFIER.fullmatch(step):
        return f"{parent}.{step}"
    quoted = step.replace("\\", "\\\\").replace("'", "\\'")
    return f"{parent}['{quoted}']"


def parse_document(raw: bytes) -> Document:
    """Parse one YAML document from `raw` (UTF-8, BOM allowed). Never raises for bad input."""
    document = Document()
    text = _decode(raw, document)
    if text is None:
        return document
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # already checks for characters YAML forbids
        root = loader.get_single_node()
        if root is not None:
            builder = _Builder(loader, document)
            document.root = builder.locate(root, "$", None, None, shadow=False)
            builder.report_aliases()
    except yaml.reader.ReaderError as error:
        document.problems.append(_reader_problem(error, text))
    except yaml.MarkedYAMLError as error:
        document.problems.append(_syntax_problem(error, text))
    except RecursionError:
        document.problems.append(NodeProblem(Position(1, 1), "the YAML is nested too deeply to read", "$"))
    finally:
        if loader is not None:
            loader.dispose()
    if document.problems and document.root is None:
        document.values.clear()
    return document


def _decode(raw: bytes, document: Document) -> str | None:
    bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[bom:].decode("utf-8")
    except UnicodeDecodeError as error:
        bad = bom + error.start
        line_start = raw.rfind(b"\n", 0, bad) + 1
        col = len(raw[max(line_start, bom) : bad].decode("utf-8")) + 1
        line = raw.count(b"\n", 0, bad) + 1
        message = f"the file is not valid UTF-8 (byte 0x{raw[bad]:02x}); save it as UTF-8"
        document.problems.append(NodeProblem(Position(line, col), message, "$"))
        return None


def _reader_problem(error: yaml.reader.ReaderError, text: str) -> NodeProblem:
    before = text[: error.position]
    line = before.count("\n") + 1
    col = error.position - (before.rfind("\n") + 1) + 1
    character = error.character if isinstance(error.character, str) else chr(error.character)
    message = f"control character U+{ord(character):04X} is not allowed in YAML; remove it"
    return NodeProblem(Position(line, col), message, "$")


def _syntax_problem(error: yaml.MarkedYAMLError, text: str) -> NodeProblem:
    mark = error.problem_mark or error.context_mark
    position = _position(mark) if mark else Position(1, 1)
    problem = " ".join((error.problem or "").split())
    if mark and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        message = "tab character: YAML indentation must use spaces, not tabs"
    elif "found another document" in problem:
        message = "only one YAML document is allowed in a connector.yaml; remove the second '---'"
    else:
        context = " ".join((error.context or "").split())
        message = f"invalid YAML: {context + ': ' if context else ''}{problem or 'syntax error'}"
        if error.context_mark and mark and error.context_mark.line != mark.line:
            message += f" ({_subject(error.context)} starting on line {error.context_mark.line + 1})"
    return NodeProblem(position, message, "$")


def _subject(context: str | None) -> str:
    """What PyYAML was reading: "while parsing a flow sequence" -> "a flow sequence"."""
    words = (context or "").split()
    return " ".join(words[2:]) if len(words) > 2 and words[0] == "while" else "the part"


def _position(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


class _Loader(yaml.SafeLoader):
    """A SafeLoader whose composer turns every alias into an inert null placeholder.

    The stock composer makes an alias share the anchored node, so building values from the tree would
    expand a "billion laughs" file exponentially. The placeholders are reported as problems instead.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases: dict[int, tuple[str, yaml.Mark]] = {}  # placeholder node id -> (anchor name, mark)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if not self.check_event(yaml.AliasEvent):
            return super().compose_node(parent, index)
        event = self.get_event()  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
        placeholder = yaml.ScalarNode(_NULL, "", event.start_mark, event.end_mark)
        self.aliases[id(placeholder)] = (str(event.anchor), event.start_mark)
        return placeholder


class _Builder:
    """Walks the node tree once, building plain values and recording every value's `Located`."""

    def __init__(self, loader: _Loader, document: Document) -> None:
        self._loader = loader
        self._document = document
        self._alias_paths: list[tuple[yaml.Mark, str, str]] = []  # (mark, anchor, path), in file order

    def locate(
        self, node: yaml.Node, path: str, key: str | None, key_position: Position | None, *, shadow: bool
    ) -> Located:
        if id(node) in self._loader.aliases:
            anchor, mark = self._loader.aliases[id(node)]
            self._alias_paths.append((mark, anchor, path))
            self._document.reported.add(path)
        value = self._value(node, path, shadow=shadow)
        scalar = node if isinstance(node, yaml.ScalarNode) else None
        located = Located(
            path=path,
            position=_position(node.start_mark),
            key=key,
            key_position=key_position,
            value=value,
            tag=node.tag,
            source=str(scalar.value) if scalar else None,
            plain=scalar is not None and scalar.style is None,
        )
        if shadow:
            self._document.shadowed.append(located)
        else:
            self._document.values[path] = located
        return located

    def report_aliases(self) -> None:
        if not self._alias_paths:
            return
        mark, anchor, path = min(self._alias_paths, key=lambda found: found[0].index)
        more = len(self._alias_paths) - 1
        message = (
            f"YAML alias '*{anchor}' is not allowed: a connector.yaml has no use for anchors and aliases, "
            "write the value out"
            + (f" ({more} more alias{'es' if more > 1 else ''} in this file)" if more else "")
        )
        self._problem(_position(mark), message, path)

    def _value(self, node: yaml.Node, path: str, *, shadow: bool) -> object:
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
            return self._mapping(node, path, shadow=shadow)
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            return [
                self.locate(item, child_path(path, index), None, None, shadow=shadow).value
                for index, item in enumerate(node.value)
            ]
        if isinstance(node, yaml.ScalarNode) and node.tag in _BUILDABLE_SCALAR_TAGS:
            return self._scalar(node, path)
        message = f"the YAML tag '{short_tag(node.tag)}' is not supported in a connector.yaml; remove it"
        self._problem(_position(node.start_mark), message, path)
        return None

    def _scalar(self, node: yaml.ScalarNode, path: str) -> object:
        if node.tag == _STR:
            if _SURROGATE.search(node.value):
                self._problem(_position(node.start_mark), _surrogate_message(node.value, "this value"), path)
                return escape_surrogates(node.value)  # still scanned for secrets, safe in any message
            return node.value
        try:
            return self._loader.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError):
            # e.g. `!!int abc`, or more digits than Python converts
            message = f"cannot read this value as {kind_of_tag(node.tag)}"
            self._problem(_position(node.start_mark), message, path)
            return None

    def _mapping(self, node: yaml.MappingNode, path: str, *, shadow: bool) -> dict[str, object]:
        result: dict[str, object] = {}
        first_seen: dict[str, Position] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            if key is None:
                continue
            key_position = _position(key_node.start_mark)
            value_path = child_path(path, key)
            if key in first_seen:
                message = (
                    f"duplicate key {key!r} (first on line {first_seen[key].line}); "
                    "YAML would silently keep only one, remove the other"
                )
                self._problem(key_position, message, value_path, replaces_value=False)
                self.locate(value_node, value_path, key, key_position, shadow=True)
                continue
            first_seen[key] = key_position
            result[key] = self.locate(value_node, value_path, key, key_position, shadow=shadow).value
        return result

    def _key(self, node: yaml.Node, parent: str) -> str | None:
        """The key as a string, or None (with a problem recorded) when it is not a plain name."""
        position = _position(node.start_mark)
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
            if _SURROGATE.search(node.value):
                key = escape_surrogates(node.value)
                message = _surrogate_message(node.value, "this key")
                self._document.problems.append(NodeProblem(position, message, child_path(parent, key)))
                self._document.reported.add(child_path(parent, key))  # not also an "unknown key"
                return key
            return str(node.value)
        if node.tag == _MERGE:
            message = "YAML merge keys (<<) are not supported in a connector.yaml; write the keys out"
        elif not isinstance(node, yaml.ScalarNode):
            message = f"a key must be a plain name, not {kind_of_tag(node.tag)}"
        elif node.value == "":
            message = "a key is missing before ':'"
        else:
            kind = kind_of_tag(node.tag)
            message = (
                f"the key '{node.value}' was read as {kind}, not a name; "
                f'write "{node.value}": if a name is meant'
            )
        self._problem(position, message, parent, replaces_value=False)
        return None

    def _problem(self, position: Position, message: str, path: str, *, replaces_value: bool = True) -> None:
        """Record a problem; when the value at `path` was replaced by None, later checks stay quiet there."""
        self._document.problems.append(NodeProblem(position, message, path))
        if replaces_value:
            self._document.reported.add(path)
