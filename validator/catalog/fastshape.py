"""A quick yes for a body that has its shape: the catalog's shapes compiled to plain Python checks.

`jsonschema` walks a schema anew for every answer (a validator object per level, `$ref` resolution, error
objects), which was a tenth of the client's CPU per request in a run of many connectors. The catalog's
shapes use six keywords (`type`, `properties`, `required`, `const` with a string, `items` with one schema,
`$ref` to another shape); each is compiled here to a predicate with Draft 2020-12's meaning, as
`jsonschema` implements it. A shape with anything else is not compiled (None): `jsonschema` alone checks it.

Only the yes is trusted: when a predicate says no, `BodyShape.mismatch` asks `jsonschema`, whose answer (and
its description of the difference) is the one used. So a predicate that was too lenient would be a false
pass; the tests compare every compiled shape with `jsonschema` on generated bodies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

_KEYWORDS = frozenset({"type", "properties", "required", "const", "items", "$ref"})
_REF_PREFIX = "#/shapes/"


def _is_integer(value: Any) -> bool:
    # jsonschema: an int that is not a bool, or a float with no fractional part
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
}


class _NotCompiled(Exception):
    """The schema uses something this module does not compile."""


def compile_shapes(raw: Mapping[str, Any]) -> dict[str, Check | None]:
    """Each shape's predicate (True: the body has the shape), or None when it is left to `jsonschema`."""
    compiled: dict[str, Check | None] = {}
    table: dict[str, Check] = {}  # filled below; `$ref` predicates look their target up when called
    for name, schema in raw.items():
        try:
            table[name] = compiled[name] = _compile(schema, raw, table)
        except _NotCompiled:
            compiled[name] = None
    # A shape referring to one left uncompiled, however indirectly, is left uncompiled too.
    changed = True
    while changed:  # through chains of references
        changed = False
        for name, schema in raw.items():
            if compiled[name] is not None and any(compiled.get(ref) is None for ref in _refs(schema)):
                compiled[name] = None
                table.pop(name, None)
                changed = True
    return compiled


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"].removeprefix(_REF_PREFIX)] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def _compile(schema: Any, raw: Mapping[str, Any], table: Mapping[str, Check]) -> Check:
    if schema is True:
        return lambda value: True
    if schema is False:
        return lambda value: False
    if not isinstance(schema, dict) or not set(schema) <= _KEYWORDS:
        raise _NotCompiled
    checks: list[Check] = []
    if "type" in schema:
        checks.append(_type_check(schema["type"]))
    if "const" in schema:
        const = schema["const"]
        if not isinstance(const, str):
            raise _NotCompiled  # jsonschema's equality of numbers, booleans and containers: not redone here
        checks.append(lambda value: isinstance(value, str) and value == const)
    if "required" in schema:
        names = schema["required"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _NotCompiled
        required = tuple(names)
        checks.append(lambda value: not isinstance(value, dict) or all(n in value for n in required))
    if "properties" in schema:
        properties = schema["properties"]
        if not isinstance(properties, dict):
            raise _NotCompiled
        subs = tuple((key, _compile(sub, raw, table)) for key, sub in properties.items())
        checks.append(
            lambda value: (
                not isinstance(value, dict) or all(key not in value or sub(value[key]) for key, sub in subs)
            )
        )
    if "items" in schema:
        item = _compile(schema["items"], raw, table)
        checks.append(lambda value: not isinstance(value, list) or all(item(element) for element in value))
    if "$ref" in schema:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith(_REF_PREFIX) or ref[len(_REF_PREFIX) :] not in raw:
            raise _NotCompiled
        target = ref[len(_REF_PREFIX) :]
        checks.append(lambda value: table[target](value))
    if len(checks) == 1:
        return checks[0]
    every = tuple(checks)
    return lambda value: all(check(value) for check in every)


def _type_check(kind: Any) -> Check:
    if isinstance(kind, str):
        if kind not in _TYPES:
            raise _NotCompiled
        return _TYPES[kind]
    if isinstance(kind, list) and kind and all(isinstance(k, str) and k in _TYPES for k in kind):
        alternatives = tuple(_TYPES[k] for k in kind)
        return lambda value: any(check(value) for check in alternatives)
    raise _NotCompiled
