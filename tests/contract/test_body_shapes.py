"""The catalog's body shapes against Intercom's OpenAPI description (2.15 and 2.16) and the sandbox.

A read is granted only when its 2xx body has the catalog shape of that operation (issue 9, item 1). Each
shape must therefore
* accept every example Intercom's description gives for that answer, and the sandbox's answer to the probe
  (so that a real answer is not refused for no reason);
* be consistent with the operation's response schema: it may only constrain properties the schema
  declares, to types the schema allows, and pin `type` strings the schema documents (in an enum, an
  example or its description). It may require what the schema leaves optional: that is the point.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from contract.openapi_spec import (
    VERSIONS,
    find_operation,
    load_description,
    resolve,
    response_examples,
)
from validator.catalog import AnswerRule, Probe, load_catalog
from validator.model import Verdict
from validator.sandbox import Sandbox, SandboxTransport

CATALOG = load_catalog()
FULL = "sandbox-full-access-0001"
LEGACY = {("GET", "/counts")}
# API-NOTES §5: the one published `GET /counts` answer (legacy references up to 2.4).
LEGACY_COUNTS_EXAMPLE = {"type": "count.hash", "company": {"count": 55}, "user": {"count": 54944}}


def _granting_reads() -> Iterator[tuple[Probe, AnswerRule]]:
    for probe in CATALOG.all_probes():
        for rule in probe.answers:
            if rule.verdict is Verdict.GRANTED and rule.status < 300:
                yield probe, rule


READS = list(_granting_reads())
DOCUMENTED = [(probe, rule) for probe, rule in READS if (probe.method, probe.path) not in LEGACY]


def _id(item: tuple[Probe, AnswerRule]) -> str:
    return f"{item[0].method} {item[0].path}"


def _shape_node(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = CATALOG.shapes[node["$ref"].removeprefix("#/shapes/")].schema
    return node


def _types(node: dict[str, Any]) -> set[str]:
    declared = node.get("type")
    types = set(declared) if isinstance(declared, list) else {declared} if declared else set()
    return types | ({"null"} if node.get("nullable") is True else set())


def consistency_problems(version: str, shape: Any, documented: Any, where: str = "") -> list[str]:
    """What `shape` constrains that the documented schema does not declare or allow."""
    shape, documented = _shape_node(shape), resolve(version, documented)
    at = where or "<root>"
    problems: list[str] = []
    shape_types, documented_types = _types(shape), _types(documented)
    if shape_types and documented_types and not shape_types <= documented_types:
        problems.append(f"{at}: type {sorted(shape_types)} not within documented {sorted(documented_types)}")
    if "const" in shape:
        value = shape["const"]
        if "enum" in documented:
            if value not in documented["enum"]:
                problems.append(f"{at}: {value!r} not in the documented enum {documented['enum']}")
        elif documented.get("example") != value and repr(value).strip("'") not in documented.get(
            "description", ""
        ):
            problems.append(f"{at}: {value!r} is documented nowhere (enum, example, description)")
    properties = documented.get("properties", {})
    for name in shape.get("required", []):
        if name not in properties:
            problems.append(f"{at}: requires {name!r}, which the schema does not declare")
    for name, sub in shape.get("properties", {}).items():
        if name not in properties:
            problems.append(f"{at}: constrains {name!r}, which the schema does not declare")
        else:
            problems.extend(consistency_problems(version, sub, properties[name], f"{where}/{name}"))
    if "items" in shape:
        if "items" not in documented:
            problems.append(f"{at}: constrains items the schema does not declare")
        else:
            problems.extend(consistency_problems(version, shape["items"], documented["items"], f"{where}/*"))
    return problems


def _response_schema(version: str, method: str, path: str, status: int) -> tuple[str, Any]:
    found = find_operation(load_description(version), method, path)
    assert found is not None, f"{method} {path} is not in {version}"
    template, operation = found
    return template, operation["responses"][str(status)]["content"]["application/json"]["schema"]


def _sandbox_answer(version: str, method: str, target: str) -> Any:
    with httpx.Client(transport=SandboxTransport(Sandbox()), base_url="https://api.intercom.io") as client:
        headers = {"Authorization": f"Bearer {FULL}", "Intercom-Version": version}
        response = client.request(method, target, headers=headers)
    assert response.status_code == 200, (method, target, response.text[:200])
    return response.json()


def test_every_granting_read_and_the_identity_have_a_shape() -> None:
    assert READS and all(rule.shape is not None for _, rule in READS)
    assert CATALOG.identity.shape is not None


def test_every_shape_is_used() -> None:
    used = {rule.shape.name for _, rule in READS if rule.shape} | {CATALOG.identity.shape.name}
    pending = list(used)
    while pending:
        text = repr(CATALOG.shapes[pending.pop()].schema)
        for name in CATALOG.shapes:
            if f"#/shapes/{name}'" in text and name not in used:
                used.add(name)
                pending.append(name)
    assert used == set(CATALOG.shapes)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("read", DOCUMENTED, ids=_id)
def test_each_shape_accepts_the_descriptions_examples(version: str, read: tuple[Probe, AnswerRule]) -> None:
    probe, rule = read
    assert rule.shape is not None
    template, _ = _response_schema(version, probe.method, probe.path, rule.status)
    examples = response_examples(version, template, probe.method, rule.status)
    assert examples, f"{probe.method} {template} has no example in {version}"
    for name, example in examples.items():
        assert rule.shape.mismatch(example) is None, name


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("read", DOCUMENTED, ids=_id)
def test_each_shape_is_consistent_with_the_response_schema(
    version: str, read: tuple[Probe, AnswerRule]
) -> None:
    probe, rule = read
    assert rule.shape is not None
    _, schema = _response_schema(version, probe.method, probe.path, rule.status)
    assert consistency_problems(version, rule.shape.schema, schema) == []


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("read", READS, ids=_id)
def test_each_shape_accepts_the_sandboxs_answer(version: str, read: tuple[Probe, AnswerRule]) -> None:
    probe, rule = read
    assert rule.shape is not None
    assert rule.shape.mismatch(_sandbox_answer(version, probe.method, probe.target)) is None


@pytest.mark.parametrize("version", VERSIONS)
def test_the_identity_shape_accepts_the_examples_and_the_sandbox_and_is_consistent(version: str) -> None:
    identity = CATALOG.identity
    template, schema = _response_schema(version, identity.method, identity.path, 200)
    examples = response_examples(version, template, identity.method, 200)
    assert examples
    for example in examples.values():
        assert identity.shape.mismatch(example) is None
    assert identity.shape.mismatch(_sandbox_answer(version, identity.method, identity.path)) is None
    assert consistency_problems(version, identity.shape.schema, schema) == []


def test_the_legacy_counts_shape_accepts_the_published_example() -> None:
    [(_, rule)] = [(probe, rule) for probe, rule in READS if (probe.method, probe.path) in LEGACY]
    assert rule.shape is not None and rule.shape.mismatch(LEGACY_COUNTS_EXAMPLE) is None


@pytest.mark.parametrize(
    "broken",
    [
        {"type": "object", "required": ["type", "datas"], "properties": {"type": {"const": "list"}}},
        {"type": "object", "properties": {"type": {"const": "lists"}}},
        {"type": "object", "properties": {"data": {"type": "object"}}},
        {"type": "object", "properties": {"data": {"type": "array", "items": {"type": "string"}}}},
        {"type": "object", "properties": {"total_count": {"type": "string"}}},
        {"type": "array"},
    ],
)
def test_the_consistency_check_can_fail(broken: dict[str, Any]) -> None:
    _, schema = _response_schema("2.16", "GET", "/contacts", 200)
    assert consistency_problems("2.16", broken, schema) != []
