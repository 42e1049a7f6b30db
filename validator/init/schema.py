"""connector.schema.json as `init` reads it: the single source of what a value written down may be."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_SCHEMA = "connector.schema.json"


def connector_schema() -> dict[str, Any]:
    from validator.schemas import load_schema

    return load_schema(_SCHEMA)


def connector_property(*names: str) -> dict[str, Any]:
    """The subschema of a connector.yaml key, e.g. `connector_property("workspace", "id")`."""
    schema = connector_schema()
    for name in names:
        schema = schema["properties"][name]
    return schema


def fits(value: str, subschema: Mapping[str, Any]) -> bool:
    """Whether `value` is valid for `subschema` of connector.schema.json, the single source of its rules."""
    from jsonschema import Draft202012Validator

    return bool(Draft202012Validator(subschema).is_valid(value))
