"""Loading and validating sandbox configuration, and what the default configuration holds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from validator.sandbox import Label, SandboxConfig, SandboxConfigError, load_config
from validator.sandbox.config import (
    DEFAULT_CONFIG_PATH,
    MAX_FAULT_MS,
    MissingPermissionStyle,
    Region,
    TokenStatus,
    default_config,
)
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
    assert config.default_api_version == "2.15"
    assert (config.rate_limit.limit, config.rate_limit.window_seconds) == (1000, 10)


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        (
            "    workspace: w1\n",
            "    workspace: w2\n",
            r"sandbox\.yaml:6: tokens\[0\]\.workspace: no workspace with id_code 'w2'",
        ),
        (
            "    workspace: w1\n",
            "    workspace: w1\n    permissions: [Read everything]\n",
            r":8: tokens\[0\]\.permissions\[0\]: 'Read everything' is not a Developer Hub label",
        ),
        (
            "    workspace: w1\n",
            "    workspace: w1\n    status: paused\n",
            r"tokens\[0\]\.status: 'paused' is not one of active, revoked, invalid",
        ),
        (
            "    name: W\n",
            "    name: W\n    region: mars\n",
            r":2: workspaces\[0\]\.region: 'MARS' is not one of US, EU, AU",
        ),
        (
            "    name: W\n",
            "    name: W\n    plan_restricted: [chats]\n",
            r"workspaces\[0\]\.plan_restricted\[0\]",
        ),
        (
            "    name: W\n",
            "    name: W\n    missing_permission_style: {GET /me: forbidden}\n",
            r"expected 'default' or a route",
        ),
        ("    name: W\n", "    name: W\n    nmae: typo\n", r":2: workspaces\[0\]: unknown key 'nmae'"),
        (
            "tokens:",
            "faults: [{route: '*', kind: status, status: 200}]\ntokens:",
            r"faults\[0\]\.status: a status fault must use a 5xx",
        ),
        (
            "tokens:",
            "default_api_version: '2.99'\ntokens:",
            r"default_api_version: '2.99' is not in api_versions",
        ),
        (
            "tokens:",
            "faults: [{route: '*', kind: drop, reset_in_s: 1}]\ntokens:",
            r"faults\[0\]\.reset_in_s: only a rate_limit fault has a reset",
        ),
    ],
)
def test_config_errors_name_file_line_and_key(tmp_path: Path, replace: str, by: str, message: str) -> None:
    with pytest.raises(SandboxConfigError, match=message) as raised:
        _load(tmp_path, MINIMAL.replace(replace, by, 1))
    assert "\n" not in str(raised.value)


def test_a_duplicate_token_is_reported_without_its_value(tmp_path: Path) -> None:
    text = MINIMAL + "  - value: t-secret-1\n    workspace: w1\n"
    with pytest.raises(SandboxConfigError, match=r"tokens\[1\]\.value: same value as tokens\[0\]") as raised:
        _load(tmp_path, text)
    assert "t-secret-1" not in str(raised.value)


def test_yaml_syntax_errors_carry_the_line(tmp_path: Path) -> None:
    with pytest.raises(SandboxConfigError, match=r"sandbox\.yaml:3: found character '\\t'"):
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
    with pytest.raises(SandboxConfigError, match=r"sandbox\.yaml:3: the sandbox config is not UTF-8 text"):
        load_config(path)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "2020-13-45",
            r"sandbox\.yaml: a value in the sandbox config cannot be read: month must be in 1\.\.12",
        ),
        ("9" * 5000, r"sandbox\.yaml: a value in the sandbox config cannot be read: Exceeds the limit"),
        ("[" * 5000 + "]" * 5000, r"sandbox\.yaml: the sandbox config is nested too deeply"),
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
    with pytest.raises(SandboxConfigError, match=rf"sandbox\.yaml:2: faults\[0\]\.ms: .*<= {MAX_FAULT_MS}"):
        _load(tmp_path, faults + MINIMAL)
    assert _load(tmp_path, faults.replace("99999999999999999999999", str(MAX_FAULT_MS)) + MINIMAL).faults


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
