"""Loading and validating sandbox configuration, and what the default configuration holds."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from validator.model import DataType
from validator.sandbox import Label, SandboxConfig, SandboxConfigError, load_config
from validator.sandbox.config import (
    DEFAULT_CONFIG_PATH,
    MAX_FAULT_MS,
    AdminConfig,
    Consent,
    FaultConfig,
    FaultKind,
    MissingPermissionStyle,
    OAuthClientConfig,
    Region,
    TokenConfig,
    TokenStatus,
    WorkspaceConfig,
    default_config,
)
from validator.sandbox.config_file import schema as config_schema
from validator.sandbox.permissions import ALL_LABELS

MINIMAL = """\
workspaces:
  - id_code: w1
    name: W
    admins: [{id: 1, name: A, email: a@w.test}]
tokens:
  - value: t-secret-1
    workspace: w1
"""


def _load(tmp_path: Path, text: str) -> SandboxConfig:
    path = tmp_path / "sandbox.yaml"
    path.write_text(text)
    return load_config(path)


def test_a_minimal_config_gets_sensible_defaults(tmp_path: Path) -> None:
    config = _load(tmp_path, MINIMAL)
    [token] = config.tokens
    assert (token.workspace, token.admin, token.status) == ("w1", "1", TokenStatus.ACTIVE)
    assert token.permissions == ALL_LABELS
    assert config.workspaces[0].region is Region.US
    assert config.default_api_version == "2.16"
    assert (config.rate_limit.limit, config.rate_limit.window_seconds) == (1000, 10)


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        (
            "    workspace: w1\n",
            "    workspace: w2\n",
            r"^\S*sandbox\.yaml:7:16: tokens\[0\]\.workspace: no workspace with id_code 'w2'$",
        ),
        (
            "    workspace: w1\n",
            "    workspace: w1\n    permissions: [Read everything]\n",
            r"sandbox\.yaml:8:19: tokens\[0\]\.permissions\[0\]: "
            r"'Read everything' is not a Developer Hub label",
        ),
        (
            "    workspace: w1\n",
            "    workspace: w1\n    status: paused\n",
            r"sandbox\.yaml:8:13: tokens\[0\]\.status: 'paused' is not one of active, revoked, invalid$",
        ),
        (
            "    name: W\n",
            "    name: W\n    region: mars\n",
            r"sandbox\.yaml:4:13: workspaces\[0\]\.region: 'MARS' is not one of US, EU, AU$",
        ),
        (
            "    name: W\n",
            "    name: W\n    plan_restricted: [chats]\n",
            r"sandbox\.yaml:4:23: workspaces\[0\]\.plan_restricted\[0\]: "
            r"'chats' is not one of people, companies, ",
        ),
        (
            "    name: W\n",
            "    name: W\n    missing_permission_style: {GET /me: forbidden}\n",
            r"sandbox\.yaml:4:32: workspaces\[0\]\.missing_permission_style\['GET /me'\]: "
            r"expected 'default' or a route",
        ),
        (
            "    name: W\n",
            "    name: W\n    nmae: typo\n",
            r"sandbox\.yaml:4:5: workspaces\[0\]: unknown key 'nmae' \(allowed: "
            r"id_code, name, region, admins, ",
        ),
        (
            "tokens:",
            "faults: [{route: '*', kind: status, status: 200}]\ntokens:",
            r"sandbox\.yaml:5:45: faults\[0\]\.status: a status fault must use a 5xx status$",
        ),
        (
            "tokens:",
            "default_api_version: '2.99'\ntokens:",
            r"sandbox\.yaml:5:22: default_api_version: '2.99' is not in api_versions$",
        ),
        (
            "tokens:",
            "faults: [{route: '*', kind: drop, reset_in_s: 1}]\ntokens:",
            r"sandbox\.yaml:5:47: faults\[0\]\.reset_in_s: only a rate_limit fault has a reset$",
        ),
    ],
)
def test_config_errors_name_file_line_and_key(tmp_path: Path, replace: str, by: str, message: str) -> None:
    with pytest.raises(SandboxConfigError, match=message) as raised:
        _load(tmp_path, MINIMAL.replace(replace, by, 1))
    assert "\n" not in str(raised.value)


def test_a_duplicate_token_is_reported_without_its_value(tmp_path: Path) -> None:
    text = MINIMAL + "  - value: t-secret-1\n    workspace: w1\n"
    with pytest.raises(
        SandboxConfigError, match=r"sandbox\.yaml:8:12: tokens\[1\]\.value: same value as tokens\[0\]$"
    ) as raised:
        _load(tmp_path, text)
    assert "t-secret-1" not in str(raised.value)


def test_yaml_syntax_errors_carry_the_line(tmp_path: Path) -> None:
    with pytest.raises(
        SandboxConfigError,
        match=r"sandbox\.yaml:3:1: tab character: YAML indentation must use spaces, not tabs$",
    ):
        _load(tmp_path, "workspaces:\n  - id_code: w1\n\tname: W\n")


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(SandboxConfigError, match="cannot read sandbox config"):
        load_config(tmp_path / "absent.yaml")


def test_python_dicts_use_the_same_structure() -> None:
    config = SandboxConfig.from_dict(
        {
            "workspaces": [
                {"id_code": "w1", "name": "W", "admins": [{"id": "1", "name": "A", "email": "a@w"}]}
            ],
            "tokens": [{"value": "t", "workspace": "w1", "permissions": ["Read tags"]}],
        }
    )
    assert config.tokens[0].permissions == frozenset({Label.READ_TAGS})
    with pytest.raises(SandboxConfigError, match=r"^<config>: \$: missing required key 'workspaces'$"):
        SandboxConfig.from_dict({})


def test_the_default_config_matches_the_repository_connector() -> None:
    config = default_config()
    acme = config.workspace("abc12xyz")
    assert acme is not None and (acme.name, acme.region) == ("Acme Support", Region.US)
    assert {w.region for w in config.workspaces} == {Region.US, Region.EU, Region.AU}
    assert acme.style_for("GET /tags") is MissingPermissionStyle.TOKEN_UNAUTHORIZED
    assert DEFAULT_CONFIG_PATH.is_file()


def test_the_default_tokens_cover_the_cases_the_validator_tells_apart() -> None:
    by_value = {t.value: t for t in default_config().tokens}
    assert by_value["sandbox-full-access-0001"].permissions == ALL_LABELS
    assert ALL_LABELS - by_value["sandbox-no-write-tags-0002"].permissions == {Label.WRITE_TAGS}
    assert by_value["sandbox-revoked-0003"].status is TokenStatus.REVOKED
    assert {
        by_value[v].workspace for v in ("sandbox-eu-full-access-0004", "sandbox-au-full-access-0005")
    } == {
        "eu34wksp",
        "au56wksp",
    }
    assert not any(value.startswith("dG9rOj") for value in by_value)
    assert default_config().oauth_clients[0].redirect_urls == ("http://127.0.0.1/callback",)


def test_a_config_that_is_not_utf8_is_a_config_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.yaml"
    path.write_bytes(MINIMAL.replace("name: W", "name: W\xe9").encode("latin-1"))
    with pytest.raises(
        SandboxConfigError,
        match=r"sandbox\.yaml:3:12: the sandbox config is not UTF-8 text; save it as UTF-8$",
    ):
        load_config(path)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "2020-13-45",
            r"sandbox\.yaml:8:8: a value in the sandbox config cannot be read: month must be in 1\.\.12$",
        ),
        ("9" * 5000, r"sandbox\.yaml:8:8: a value in the sandbox config cannot be read: Exceeds the limit"),
        ("[" * 5000 + "]" * 5000, r"sandbox\.yaml:1:1: the YAML is nested too deeply to read$"),
    ],
    ids=["impossible-date", "5000-digit-integer", "deep-nesting"],
)
def test_yaml_values_that_cannot_be_built_are_config_errors(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(SandboxConfigError, match=message) as raised:
        _load(tmp_path, MINIMAL + f"extra: {value}\n")
    assert "\n" not in str(raised.value)


def test_a_fault_delay_beyond_ten_minutes_is_refused_where_it_is_written(tmp_path: Path) -> None:
    # Accepted, such a delay made every request fail with OverflowError inside the sandbox.
    faults = "faults:\n  - route: '*'\n    kind: latency\n    ms: 99999999999999999999999\n"
    with pytest.raises(
        SandboxConfigError,
        match=rf"sandbox\.yaml:4:9: faults\[0\]\.ms: expected an integer <= {MAX_FAULT_MS}$",
    ):
        _load(tmp_path, faults + MINIMAL)
    assert _load(tmp_path, faults.replace("99999999999999999999999", str(MAX_FAULT_MS)) + MINIMAL).faults


@pytest.mark.e2e  # runs `python -m validator sandbox`
def test_sandbox_refuses_a_named_pipe_as_config_instead_of_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "sandbox.yaml"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "validator", "sandbox", "--config", str(fifo)],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.returncode == 2, done.stderr
    assert (
        done.stderr
        == f"connector-validator: error: {fifo}: cannot read sandbox config: it is not a regular file\n"
    )


# --- the schema (validator/sandbox/config.schema.json) and how its errors are worded ---------------------


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ("    name: W\n", "", r"sandbox\.yaml:2:5: workspaces\[0\]: missing required key 'name'$"),
        (
            "admins: [{id: 1, name: A, email: a@w.test}]",
            "admins:",
            r"sandbox\.yaml:4:5: workspaces\[0\]\.admins: "
            r"at least one admin is needed \(tokens act for an admin\)$",
        ),
        (
            "value: t-secret-1",
            "value: t secret",
            r"sandbox\.yaml:6:12: tokens\[0\]\.value: expected a non-empty string without spaces$",
        ),
        ("name: W", "name: '  '", r"sandbox\.yaml:3:11: workspaces\[0\]\.name: expected a non-empty string$"),
        (
            "    workspace: w1\n",
            "    workspace: w1\n    permissions: everything\n",
            r"sandbox\.yaml:8:18: tokens\[0\]\.permissions: expected a list, got str$",
        ),
        (
            "    workspace: w1\n",
            "    workspace: w1\n    admin: 7\n",
            r"sandbox\.yaml:8:12: tokens\[0\]\.admin: no admin '7' in workspace 'w1'$",
        ),
        (
            "    name: W\n",
            "    name: W\n    missing_permission_style: {default: loud}\n",
            r"sandbox\.yaml:4:41: workspaces\[0\]\.missing_permission_style\['default'\]: "
            r"'loud' is not one of "
            r"token_unauthorized, forbidden$",
        ),
        (
            "    name: W\n",
            "    name: W\n    missing_permission_style: loud\n",
            r"sandbox\.yaml:4:31: workspaces\[0\]\.missing_permission_style: "
            r"expected a mapping of route → style$",
        ),
        (
            "tokens:",
            "rate_limit: [1]\ntokens:",
            r"sandbox\.yaml:5:1: rate_limit: expected a mapping, got list$",
        ),
        # A bool is no integer and 1.0 no integer, as the loader has always read them.
        *(
            (
                "tokens:",
                f"rate_limit: {{limit: {value}}}\ntokens:",
                r":5:21: rate_limit\.limit: expected an integer >= 1$",
            )
            for value in ("0", "1.0", "true")
        ),
    ],
)
def test_schema_errors_name_file_line_col_and_key(
    tmp_path: Path, replace: str, by: str, message: str
) -> None:
    assert replace in MINIMAL
    with pytest.raises(SandboxConfigError, match=message):
        _load(tmp_path, MINIMAL.replace(replace, by, 1))


def test_plain_python_data_is_checked_by_the_same_schema_without_positions() -> None:
    workspace = {"id_code": "w1", "name": "W", "admins": ({"id": "1", "name": "A", "email": "a@w"},)}
    tokens = ({"value": "t", "workspace": "w1", "permissions": ("Read tags",)},)  # tuples are lists here
    assert SandboxConfig.from_dict({"workspaces": [workspace], "tokens": tokens}).tokens[0].permissions == {
        Label.READ_TAGS
    }
    bad = {"workspaces": [workspace], "tokens": [{"value": "t", "workspace": "w1", "status": "paused"}]}
    with pytest.raises(
        SandboxConfigError,
        match=r"^<config>: tokens\[0\]\.status: 'paused' is not one of active, revoked, invalid$",
    ):
        SandboxConfig.from_dict(bad)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "x: &a 1\ny: *a\n",
            r"sandbox\.yaml:9:4: YAML alias '\*a' is not allowed: a sandbox config has no use for anchors",
        ),
        ("tokens: []\n", r"sandbox\.yaml:8:1: duplicate key 'tokens' \(first on line 5\)"),
        (
            "    status: !!set {a}\n",
            r"sandbox\.yaml:8:13: the YAML tag '!!set' is not supported in a sandbox config",
        ),
    ],
    ids=["alias", "duplicate-key", "tag"],
)
def test_yaml_is_read_as_strictly_as_connector_yaml(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(SandboxConfigError, match=message) as raised:
        _load(tmp_path, MINIMAL + extra)
    assert "connector.yaml" not in str(raised.value)


def test_a_config_that_is_not_a_mapping_is_refused_at_its_start(tmp_path: Path) -> None:
    for text in ("- 1\n", "# only a comment\n"):
        with pytest.raises(
            SandboxConfigError, match=r"sandbox\.yaml:1:1: the sandbox config must be a mapping$"
        ):
            _load(tmp_path, text)


def test_the_schema_is_valid_and_its_choices_are_the_python_enums() -> None:
    from jsonschema import Draft202012Validator

    schema = config_schema()
    Draft202012Validator.check_schema(schema)
    defs = schema["$defs"]
    choices = {
        "plan_restricted": defs["workspace"]["properties"]["plan_restricted"]["items"]["enum"],
        "missing_permission_style": defs["workspace"]["properties"]["missing_permission_style"][
            "additionalProperties"
        ]["enum"],
        "status": defs["token"]["properties"]["status"]["enum"],
        "consent": defs["oauth_client"]["properties"]["consent"]["enum"],
        "kind": defs["fault"]["properties"]["kind"]["enum"],
    }
    assert choices == {
        "plan_restricted": [m.value for m in DataType],
        "missing_permission_style": [m.value for m in MissingPermissionStyle],
        "status": [m.value for m in TokenStatus],
        "consent": [m.value for m in Consent],
        "kind": [m.value for m in FaultKind],
    }
    assert defs["fault"]["properties"]["ms"]["maximum"] == MAX_FAULT_MS
    # The keys a config may hold are the fields of the dataclasses (created_at is not configurable).
    assert set(defs["workspace"]["properties"]) == {f.name for f in fields(WorkspaceConfig)} - {"created_at"}
    for name, cls in (("admin", AdminConfig), ("token", TokenConfig), ("oauth_client", OAuthClientConfig)):
        assert set(defs[name]["properties"]) == {f.name for f in fields(cls)}, name
    assert set(defs["fault"]["properties"]) == {f.name for f in fields(FaultConfig)}
    assert set(schema["properties"]) == {f.name for f in fields(SandboxConfig)}


def test_every_rule_of_the_schema_has_its_own_wording() -> None:
    # config_file words errors by keyword; a keyword it does not know would get a generic message.
    worded = {"type", "additionalProperties", "required", "minItems", "enum", "minimum", "maximum", "pattern"}
    worded |= {"minLength", "not", "anyOf"}  # the token value and permissions
    structural = {"$schema", "$id", "$ref", "$defs", "title", "description", "default", "properties", "items"}

    def keywords(node: object) -> set[str]:
        if isinstance(node, dict):
            found = set(node) - {"properties", "$defs"}
            for key, value in node.items():
                children = value.values() if key in ("properties", "$defs") else [value]
                for child in children:
                    found |= keywords(child)
            return found
        if isinstance(node, list):
            return set().union(*(keywords(item) for item in node)) if node else set()
        return set()

    assert keywords(config_schema()) - structural <= worded


def test_a_mapping_where_a_label_belongs_is_a_config_error_not_a_crash(tmp_path: Path) -> None:
    # It raised TypeError (unhashable dict) from the label lookup: an internal error, not a config error.
    with pytest.raises(
        SandboxConfigError, match=r"sandbox\.yaml:8:19: tokens\[0\]\.permissions\[0\]: \{'a': 1\} is"
    ):
        _load(tmp_path, MINIMAL + "    permissions: [{a: 1}]\n")
