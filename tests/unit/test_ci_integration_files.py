"""The GitHub Action, pre-commit hook and CI recipes are well-formed and keep the token off command lines."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def load(name: str) -> Any:
    return yaml.safe_load((REPO / name).read_text(encoding="utf-8"))


def test_the_action_is_a_composite_action_with_the_documented_inputs() -> None:
    action = load("action.yml")
    assert action["runs"]["using"] == "composite"
    assert {"paths", "token", "token-env", "reports", "api-url"} <= set(action["inputs"])
    assert "exit-code" in action["outputs"]


def test_the_action_never_puts_an_input_into_a_script_directly() -> None:
    """`${{ inputs.x }}` inside `run:` is expanded into the script text: a token would land in the log of the
    shell command, and any input could inject commands. Inputs go through `env:` only."""
    for step in load("action.yml")["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step.get("name")
    validate = next(step for step in load("action.yml")["runs"]["steps"] if step.get("id") == "validate")
    assert validate["env"]["TOKEN_VALUE"] == "${{ inputs.token }}"
    assert "connector-validator validate" in validate["run"] and "--format github" in validate["run"]


def test_the_pre_commit_hook_lints_connector_files_only() -> None:
    (hook,) = load(".pre-commit-hooks.yaml")
    assert hook["id"] == "connector-validator-lint" and hook["entry"] == "connector-validator lint"
    files = re.compile(hook["files"])
    assert files.search("connector.yaml") and files.search("customers/connector-acme.yml")
    assert not files.search("docker-compose.yaml") and not files.search("connectors/readme.md")


@pytest.mark.parametrize(
    "block", re.findall(r"```yaml\n(.*?)```", (REPO / "docs" / "ci.md").read_text(), re.S)
)
def test_every_yaml_recipe_in_the_ci_guide_parses(block: str) -> None:
    if block.lstrip().startswith("- run:") or block.startswith("      "):
        block = "steps:\n" + block  # a fragment of a job's steps
    assert yaml.safe_load(block) is not None
