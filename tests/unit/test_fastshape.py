"""The catalog's shapes compiled to plain checks (`validator.catalog.fastshape`) agree with jsonschema.

A compiled check is trusted when it says yes, so one more lenient than jsonschema would be a false pass:
every shape of the catalog is compared with jsonschema on bodies generated from the shape itself (close
to it, with one part changed at random: a type, a constant, a missing field, an extra one).
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from validator.catalog import _HERE, load_catalog
from validator.catalog.fastshape import compile_shapes

RAW: dict[str, Any] = yaml.safe_load((_HERE / "intercom.yaml").read_text(encoding="utf-8"))["shapes"]
QUICK = compile_shapes(RAW)
VALIDATORS = {
    name: jsonschema.Draft202012Validator({"shapes": RAW, "$ref": f"#/shapes/{name}"}) for name in RAW
}

_ANY = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=5),
        st.sampled_from([1.0, 0, True, False, "", "list", "admin", "pages"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=4), children)
    ),
    max_leaves=6,
)
_OF_TYPE = {
    "object": st.just({}),
    "array": st.just([]),
    "string": st.text(max_size=5),
    "integer": st.one_of(st.integers(), st.just(3.0)),
    "number": st.one_of(st.integers(), st.floats(allow_nan=False)),
    "boolean": st.booleans(),
    "null": st.none(),
}


def _near(schema: Any, draw: Any, depth: int = 0) -> Any:
    """A value close to `schema`'s shape, sometimes off it."""
    if draw(st.integers(0, 9)) == 0 or depth > 6 or not isinstance(schema, dict):
        return draw(_ANY)
    if "$ref" in schema:
        target = RAW[schema["$ref"].removeprefix("#/shapes/")]
        merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return _near(merged, draw, depth + 1)
    if "const" in schema:
        return schema["const"] if draw(st.integers(0, 5)) else draw(_ANY)
    kinds = schema.get("type", "object" if "properties" in schema else "array" if "items" in schema else None)
    kind = draw(st.sampled_from(kinds)) if isinstance(kinds, list) else kinds
    if kind is None:
        return draw(_ANY)
    if kind == "object" or ("properties" in schema and kind is None):
        value: dict[str, Any] = {}
        for key, sub in schema.get("properties", {}).items():
            wanted = key in schema.get("required", ()) or draw(st.booleans())
            if wanted and draw(st.integers(0, 12)):  # a required field is sometimes left out
                value[key] = _near(sub, draw, depth + 1)
        if draw(st.integers(0, 4)) == 0:
            value[draw(st.text(max_size=4))] = draw(_ANY)
        return value
    if kind == "array":
        return [_near(schema.get("items", True), draw, depth + 1) for _ in range(draw(st.integers(0, 3)))]
    return draw(_OF_TYPE[kind])


@st.composite
def _bodies(draw: Any, name: str) -> Any:
    return _near(RAW[name], draw)


def test_every_shape_of_the_catalog_is_compiled() -> None:
    assert [name for name, check in QUICK.items() if check is None] == []


@pytest.mark.parametrize("name", sorted(RAW))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_compiled_shape_says_what_jsonschema_says(name: str, data: st.DataObject) -> None:
    body = data.draw(_bodies(name))
    check = QUICK[name]
    assert check is not None
    assert check(body) == VALIDATORS[name].is_valid(body)


def test_what_is_not_compiled_is_left_to_jsonschema() -> None:
    raw = {
        "a": {"type": "object", "minProperties": 1},
        "b": {"const": 3},
        "c": {"$ref": "#/shapes/a"},
        "d": {"properties": {"x": {"$ref": "#/shapes/c"}}},
        "e": {"required": ["x"]},  # no type: anything but an object has it
    }
    quick = compile_shapes(raw)
    assert {name for name, check in quick.items() if check is None} == {"a", "b", "c", "d"}
    check = quick["e"]
    assert check is not None and check({"x": 1}) and not check({}) and check([])


def test_integers_booleans_and_constants_follow_jsonschema() -> None:
    quick = compile_shapes(
        {"i": {"type": "integer"}, "k": {"const": "list"}, "n": {"type": ["number", "null"]}}
    )
    i, k, n = quick["i"], quick["k"], quick["n"]
    assert i is not None and k is not None and n is not None
    assert i(3) and i(3.0) and not i(3.5) and not i(True)
    assert k("list") and not k("List") and not k(None)
    assert n(None) and n(2.5) and not n(False) and not n("1")


def test_a_body_off_its_shape_is_still_described_by_jsonschema() -> None:
    catalog = load_catalog()
    shape = next(
        rule.shape for probe in catalog.all_probes() for rule in probe.answers if rule.shape is not None
    )
    assert shape.mismatch(None if shape.schema.get("type") == "object" else {}) is not None
    assert shape.mismatch(["not", "a", "body"]) is not None
