"""Access to the vendored, trimmed OpenAPI descriptions in `tests/contract/openapi/`.

    from contract.openapi_spec import load_description, find_operation, body_problems

Descriptions are loaded once per session. Bodies are validated with jsonschema (Draft 2020-12) after
turning OpenAPI 3.0's `nullable: true` into JSON Schema's `null` type; `$ref`s to `#/components/...`
resolve through a `referencing` registry holding the whole description.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

OPENAPI_DIR = Path(__file__).parent / "openapi"
VERSIONS = ("2.15", "2.16")
ERROR_SCHEMA_REF = "#/components/schemas/error"


@functools.cache
def load_description(version: str) -> dict[str, Any]:
    """The vendored description of Intercom API `version` (e.g. "2.15"), as parsed JSON."""
    with (OPENAPI_DIR / f"{version}.json").open(encoding="utf-8") as f:
        loaded: dict[str, Any] = json.load(f)
    return loaded


def _template_pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


def find_operation(
    description: dict[str, Any], method: str, concrete_path: str
) -> tuple[str, dict[str, Any]] | None:
    """The path template and operation serving `method concrete_path`, or None.

    `/companies/abc` matches `/companies/{company_id}`; literal templates win over parameterised ones, so
    `/companies/list` is never taken for a company id.
    """
    path = concrete_path.split("?", 1)[0]
    candidates = sorted(description["paths"], key=lambda t: t.count("{"))
    for template in candidates:
        operation = description["paths"][template].get(method.lower())
        if operation is not None and _template_pattern(template).match(path):
            return template, operation
    return None


def _nullable_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema: `nullable: true` becomes an explicit `null` alternative."""
    if isinstance(node, list):
        return [_nullable_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted: dict[str, Any] = {}
    for key, value in node.items():
        if key == "nullable":
            continue
        if key == "properties" and isinstance(value, dict):
            # Property names are data, not keywords: a property may well be called "nullable".
            converted[key] = {name: _nullable_to_json_schema(sub) for name, sub in value.items()}
        else:
            converted[key] = _nullable_to_json_schema(value)
    if node.get("nullable") is not True:
        return converted
    if isinstance(converted.get("type"), str) and "$ref" not in converted:
        converted["type"] = [converted["type"], "null"]
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
        return converted
    return {"anyOf": [converted, {"type": "null"}]}


@functools.cache
def _registry(version: str) -> tuple[str, Registry[Any]]:
    uri = f"urn:intercom-openapi:{version}"
    contents = _nullable_to_json_schema(load_description(version))
    resource = Resource.from_contents(contents, default_specification=DRAFT202012)
    return uri, Registry().with_resource(uri, resource)


@functools.cache
def _validator(version: str, pointer: str) -> Draft202012Validator:
    uri, registry = _registry(version)
    return Draft202012Validator({"$ref": f"{uri}{pointer}"}, registry=registry)


def response_schema_pointer(version: str, template: str, method: str, status: int) -> str | None:
    """A `#/...` pointer to the JSON schema of that documented response, or None if it has none."""
    operation = load_description(version)["paths"][template][method.lower()]
    response = operation["responses"].get(str(status))
    if response is None:
        return None
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    escaped = template.replace("~", "~0").replace("/", "~1")
    pointer = f"#/paths/{escaped}/{method.lower()}/responses/{status}/content/application~1json/schema"
    return quote(pointer, safe="#/~")


def body_problems(version: str, pointer: str, body: Any) -> list[str]:
    """Why `body` does not validate against the schema at `pointer` (empty when it does)."""
    errors = sorted(_validator(version, pointer).iter_errors(body), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]


def resolve(version: str, node: Any) -> Any:
    """`node` with its `$ref` chain followed (one level: properties stay as written)."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in seen or not ref.startswith("#/"):
            raise ValueError(f"cannot resolve {ref!r}")
        seen.add(ref)
        node = load_description(version)
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def request_schema_pointer(version: str, template: str, method: str) -> str | None:
    """A `#/...` pointer to the JSON request body schema of that operation, or None if it has none."""
    operation = load_description(version)["paths"][template][method.lower()]
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    escaped = template.replace("~", "~0").replace("/", "~1")
    pointer = f"#/paths/{escaped}/{method.lower()}/requestBody/content/application~1json/schema"
    return quote(pointer, safe="#/~")


def response_examples(version: str, template: str, method: str, status: int) -> dict[str, Any]:
    """The named example bodies the description gives for that JSON response (kept for 2xx only)."""
    operation = load_description(version)["paths"][template][method.lower()]
    content = operation["responses"].get(str(status), {}).get("content", {}).get("application/json", {})
    return {name: example["value"] for name, example in content.get("examples", {}).items()}
