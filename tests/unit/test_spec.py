"""connector.yaml loading, driven by example files in the manner of check-jsonschema.

`tests/data/specs/valid/*.yaml` must load. Each `tests/data/specs/invalid/*.yaml` starts with a comment block
naming every problem it must produce, in order:

    # what the case is about
    # expect: LINE:COL: MESSAGE SUBSTRING (JSON.PATH)

A new invalid case is a new file; no test code changes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from validator import schemas
from validator.catalog import load_catalog
from validator.model import (
    DEFAULT_TOKEN_ENV,
    Access,
    AuthMode,
    DataType,
    Permission,
    Position,
    Region,
)
from validator.spec import (
    SpecError,
    SpecFileError,
    SpecProblem,
    load_spec,
    parse_spec,
)
from validator.spec.explain import PATTERN_HINTS, SCHEMA_NAME
from validator.spec.reading import MAX_SPEC_BYTES

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "tests" / "data" / "specs"
VALID = sorted((SPECS / "valid").glob("*.yaml"))
INVALID = sorted((SPECS / "invalid").glob("*.yaml"))
EXPECT = re.compile(rb"^# expect: (\d+):(\d+): (.*) \((\$[^()]*)\)\s*$")
TOKEN_LIKE = re.compile(rb"dG9rOj[A-Za-z0-9+/=_-]*")
MINIMAL = (SPECS / "valid" / "minimal.yaml").read_bytes()


@dataclass(frozen=True)
class Expected:
    line: int
    col: int
    message_part: str
    json_path: str

    def matches(self, problem: SpecProblem) -> bool:
        return (problem.line, problem.col, problem.json_path) == (
            self.line,
            self.col,
            self.json_path,
        ) and self.message_part in problem.message


def expectations(path: Path) -> list[Expected]:
    """The `# expect:` lines of the file's leading comment block (read as bytes: some cases are not UTF-8)."""
    found = []
    for raw_line in path.read_bytes().splitlines():
        if not raw_line.startswith(b"#"):
            break
        match = EXPECT.match(raw_line)
        if match:
            line, col, message, json_path = match.groups()
            found.append(Expected(int(line), int(col), message.decode(), json_path.decode()))
    return found


def problems_of(path: Path) -> tuple[SpecProblem, ...]:
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    return caught.value.problems


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_spec_loads(path: Path) -> None:
    spec = load_spec(path)
    assert spec.permissions
    assert spec.position_of("$") == Position(1, 1)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_spec_reports_exactly_the_expected_problems(path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} has no '# expect:' lines"
    problems = problems_of(path)
    shown = "\n".join(problem.format() for problem in problems)
    assert len(problems) == len(expected), shown
    for want, got in zip(expected, problems, strict=True):
        assert want.matches(got), f"expected {want}\ngot {got.format()}"


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_no_message_echoes_a_token(path: Path) -> None:
    problems = problems_of(path)
    for token in TOKEN_LIKE.findall(path.read_bytes()):
        for problem in problems:
            assert token.decode()[:12] not in problem.format()
    assert all("dG9rOj" not in problem.format() for problem in problems)


def test_the_data_covers_enough_invalid_cases() -> None:
    assert len(INVALID) >= 30


def test_problems_are_sorted_one_line_each_and_formatted() -> None:
    problems = problems_of(SPECS / "invalid" / "many-problems.yaml")
    assert list(problems) == sorted(problems, key=lambda p: (p.line, p.col))
    first = problems[0]
    assert first.format() == f"{first.file}:{first.line}:{first.col}: {first.message} ({first.json_path})"
    assert all("\n" not in problem.format() for problem in problems)


def test_spec_error_str_is_the_first_problem() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(SPECS / "invalid" / "many-problems.yaml")
    assert str(caught.value) == caught.value.problems[0].format()


# --- cases generated at test time: too big, too empty or too slow to commit ---------------------------


def test_zero_byte_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "connector.yaml"
    path.write_bytes(b"")
    (problem,) = problems_of(path)
    assert (problem.line, problem.col, problem.json_path) == (1, 1, "$")
    assert "the file is empty" in problem.message


def test_oversize_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "connector.yaml"
    # Invalid YAML from the first byte: a parse would report a syntax error instead of the size.
    path.write_bytes(b"[" + b" " * MAX_SPEC_BYTES)
    (problem,) = problems_of(path)
    assert (problem.line, problem.col, problem.json_path) == (1, 1, "$")
    assert "over the 1 MiB limit" in problem.message


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['lol0: &lol0 "lol"']
    lines += [f"lol{n}: &lol{n} [{', '.join([f'*lol{n - 1}'] * 10)}]" for n in range(1, 12)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.perf_counter()
    problems = problems_of(path)
    assert time.perf_counter() - started < 2
    aliases = [problem for problem in problems if "YAML alias" in problem.message]
    assert [(p.line, p.col) for p in aliases] == [(2, 14)]
    assert "109 more aliases" in aliases[0].message


def test_deep_nesting_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("name: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    assert "nested too deeply" in problems_of(path)[0].message


def test_missing_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(SpecFileError, match="no such file"):
        load_spec(tmp_path / "absent.yaml")


def test_directory_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(SpecFileError, match="directory"):
        load_spec(tmp_path)


def test_a_named_pipe_is_a_file_error_and_is_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "connector.yaml"
    os.mkfifo(fifo)
    # Guard: if load_spec opened the pipe it would wait for a writer forever; this writer comes along after
    # a few seconds and leaves at once, so such a load would read an empty file instead of hanging.
    unblock = threading.Timer(5, lambda: os.close(os.open(fifo, os.O_RDWR | os.O_NONBLOCK)))
    unblock.start()
    try:
        with pytest.raises(SpecFileError, match="named pipe") as raised:
            load_spec(fifo)
    finally:
        unblock.cancel()
    assert raised.value.reason.startswith("it is a named pipe (FIFO), not a regular file")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_is_a_file_error_not_a_read_of_endless_bytes() -> None:
    with pytest.raises(SpecFileError, match="it is a device, not a regular file"):
        load_spec(Path("/dev/zero"))


# --- what a loaded spec carries -------------------------------------------------------------------------


def test_repository_example_is_valid_and_positions_point_where_the_issue_says() -> None:
    spec = load_spec(REPO / "connector.yaml")
    assert spec.name == "helpdesk-migration"
    assert spec.positions["$"] == Position(1, 1)
    assert spec.positions["$.workspace"] == Position(8, 1)  # a mapping: at its key
    assert spec.positions["$.workspace.id"] == Position(9, 7)  # a scalar: at its value
    assert spec.positions["$.permissions.people"] == Position(17, 3)  # a list: at its key
    assert spec.positions["$.permissions.people[1]"] == Position(17, 18)  # an item: at the item
    write_people = Permission(DataType.PEOPLE, Access.WRITE)
    assert spec.position_of_permission(write_people) == Position(17, 18)
    assert spec.permissions[:3] == (
        Permission(DataType.PEOPLE, Access.READ),
        write_people,
        Permission(DataType.COMPANIES, Access.READ),
    )
    assert len(spec.permission_positions) == len(spec.permissions) == 13


def test_defaults_fill_what_the_minimal_file_leaves_out() -> None:
    spec = load_spec(SPECS / "valid" / "minimal.yaml")
    assert spec.workspace.region is Region.US
    assert spec.workspace.name is None
    assert spec.auth.token_env == DEFAULT_TOKEN_ENV
    assert spec.auth.client_id_env is None
    assert spec.api_version is None
    assert load_catalog().api_version_for(spec) == load_catalog().default_api_version == "2.16"


def test_all_optional_fields_are_read() -> None:
    spec = load_spec(SPECS / "valid" / "all-fields.yaml")
    assert spec.workspace.region is Region.EU
    assert spec.auth.mode is AuthMode.OAUTH
    assert spec.auth.client_secret_env == "ACME_INTERCOM_CLIENT_SECRET"
    assert spec.api_version == "2.15"
    assert {permission.data_type for permission in spec.permissions} == set(DataType)


def test_quoted_traps_stay_strings() -> None:
    spec = load_spec(SPECS / "valid" / "quoted-traps.yaml")
    assert (spec.name, spec.workspace.id, spec.workspace.name, spec.api_version) == (
        "on",
        "12345",
        "no",
        "2.10",
    )


# --- the schema: valid, documented, and in step with the model ------------------------------------------


def schema() -> dict[str, Any]:
    return schemas.load_schema(SCHEMA_NAME)


def subschemas(node: object) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for key in ("properties", "$defs"):
            for child in node.get(key, {}).values():
                found.extend(subschemas(child))
        if "items" in node:
            found.extend(subschemas(node["items"]))
    return found


def test_schema_is_valid_2020_12_with_a_stable_id() -> None:
    Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema()["$id"] == "https://connector-validator.dev/schemas/connector/v1.json"


def test_every_property_has_title_and_description_and_every_object_is_closed() -> None:
    for node in subschemas(schema()):
        assert node.get("title") and node.get("description"), node
        if node.get("type") == "object":
            assert node["additionalProperties"] is False, node["title"]


def test_schema_examples_are_valid() -> None:
    validator = Draft202012Validator(schema())
    for example in schema()["examples"]:
        validator.validate(example)


def test_schema_choices_and_defaults_match_the_model() -> None:
    properties = schema()["properties"]
    assert set(properties["permissions"]["properties"]) == {str(data_type) for data_type in DataType}
    assert schema()["$defs"]["accessList"]["items"]["enum"] == [str(access) for access in Access]
    workspace, auth = properties["workspace"]["properties"], properties["auth"]["properties"]
    assert workspace["region"]["enum"] == [str(region) for region in Region]
    assert workspace["region"]["default"] == Region.US
    assert auth["mode"]["enum"] == [str(mode) for mode in AuthMode]
    assert auth["token_env"]["default"] == DEFAULT_TOKEN_ENV
    assert properties["api_version"]["default"] == load_catalog().default_api_version


def test_every_schema_pattern_has_a_hint() -> None:
    patterns = {node["pattern"] for node in subschemas(schema()) if "pattern" in node}
    assert patterns == set(PATTERN_HINTS)


def test_schema_is_found_in_the_wheel_location_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel, source = tmp_path / "_schemas", tmp_path / "schemas"
    for directory in (wheel, source):
        directory.mkdir()
        (directory / SCHEMA_NAME).write_text(json.dumps({"where": directory.name}), encoding="utf-8")
    monkeypatch.setattr(schemas, "_SEARCH_DIRS", (wheel, source))
    assert schemas.schema_path(SCHEMA_NAME) == wheel / SCHEMA_NAME
    (wheel / SCHEMA_NAME).unlink()
    assert schemas.schema_path(SCHEMA_NAME) == source / SCHEMA_NAME


def test_source_tree_schema_is_found() -> None:
    assert schemas.schema_path(SCHEMA_NAME).read_bytes() == (REPO / "schemas" / SCHEMA_NAME).read_bytes()


def test_importing_lint_does_not_import_jsonschema() -> None:
    code = "import sys, validator.lint; print('jsonschema' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False"


# --- fuzz: whatever the bytes, only SpecError ----------------------------------------------------------

YAMLISH = st.text(
    alphabet=list("abcdefghijklmnopqrstuvwxyz0123456789 \t\n:-[]{},&*!|>'\"#%@`?.~=<"), max_size=300
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def assert_only_spec_errors(raw: bytes) -> None:
    try:
        parse_spec(raw, "fuzz.yaml")
    except SpecError as error:
        assert all(problem.line >= 1 and problem.col >= 1 for problem in error.problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes_never_crash(raw: bytes) -> None:
    assert_only_spec_errors(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(YAMLISH)
def test_random_yamlish_text_never_crashes(text: str) -> None:
    assert_only_spec_errors(text.encode("utf-8"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(["version", "name", "platform", "workspace", "auth", "permissions"]), JSONISH
    )
)
def test_random_documents_never_crash(document: dict[str, object]) -> None:
    assert_only_spec_errors(yaml.safe_dump(document).encode("utf-8"))


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=len(MINIMAL)), st.binary(min_size=1, max_size=8))
def test_mutated_minimal_file_never_crashes(at: int, inserted: bytes) -> None:
    assert_only_spec_errors(MINIMAL[:at] + inserted + MINIMAL[at:])
