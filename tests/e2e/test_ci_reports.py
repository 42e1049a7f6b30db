"""Reports where CI systems read them: positions in connector.yaml, many connectors, no token anywhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness import ALL_LABELS, CANARY, EXAMPLE, default_config_data, run_cli, served, with_token

pytestmark = pytest.mark.e2e

NO_WRITE_TAGS = "sandbox-no-write-tags-0002"


def position_in(path: Path, line_start: str, word: str) -> tuple[int, int]:
    """1-based line and column of `word` on the first line of `path` that starts with `line_start`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith(line_start):
            return number, line.index(word, len(line) - len(line.lstrip())) + 1
    raise AssertionError(f"{line_start!r} not in {path}")


def validate_example(base_url: str, token: str, *args: str) -> Any:
    return run_cli(
        "validate", str(EXAMPLE), *args, env={"INTERCOM_ACCESS_TOKEN": token, "INTERCOM_API_URL": base_url}
    )


def test_sarif_points_at_the_access_level_that_is_missing() -> None:
    with served() as world:
        run = validate_example(world.base_url, NO_WRITE_TAGS)
    results = json.loads(run.reports["sarif"])["runs"][0]["results"]
    assert len(results) == 1
    location = results[0]["locations"][0]["physicalLocation"]
    line, col = position_in(EXAMPLE, "tags:", "write")
    assert (location["region"]["startLine"], location["region"]["startColumn"]) == (line, col)
    assert location["artifactLocation"]["uri"].endswith("connector.yaml")
    assert "Write tags" in results[0]["message"]["text"]


def test_github_annotations_point_at_the_same_place() -> None:
    with served() as world:
        run = validate_example(world.base_url, NO_WRITE_TAGS)
    line, col = position_in(EXAMPLE, "tags:", "write")
    errors = [text for text in run.reports["github"].splitlines() if text.startswith("::error ")]
    assert len(errors) == 1 and f"line={line},col={col}" in errors[0]


def test_a_workspace_mismatch_points_at_the_workspace_field(tmp_path: Path) -> None:
    spec = tmp_path / "connector.yaml"
    spec.write_text(EXAMPLE.read_text(encoding="utf-8").replace("region: us", "region: au"), encoding="utf-8")
    with served() as world:
        run = run_cli(
            "validate", str(spec), env={"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": world.base_url}
        )
    assert run.code == 1
    line, col = position_in(spec, "region:", "au")
    assert f"line={line},col={col}" in run.reports["github"]


def test_the_step_summary_is_appended_when_github_actions_asks_for_it(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    with served() as world:
        run = run_cli(
            "validate", str(EXAMPLE), "--format", "github",
            env={"INTERCOM_ACCESS_TOKEN": NO_WRITE_TAGS, "INTERCOM_API_URL": world.base_url,
                 "GITHUB_STEP_SUMMARY": str(summary)},
            files=[summary],
        )  # fmt: skip
    assert run.code == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n") and "Write tags" in text


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "sarif", "github", "markdown"])
def test_no_format_ever_contains_the_token(fmt: str) -> None:
    data = with_token(
        default_config_data(), CANARY + "x", [label for label in ALL_LABELS if label != "Read tags"]
    )
    with served(data) as world:
        run = run_cli(
            "validate", str(EXAMPLE), "--format", fmt,
            env={"INTERCOM_ACCESS_TOKEN": CANARY + "x", "INTERCOM_API_URL": world.base_url},
        )  # fmt: skip
    assert run.code == 1 and run.stdout  # run_cli has already scanned stdout, stderr and every report


WORKSPACES = [
    ("abc12xyz", "Acme Support", "us"),
    ("eu34wksp", "Acme Europe", "eu"),
    ("au56wksp", "Acme Australia", "au"),
]


def test_twenty_connectors_across_three_workspaces_give_one_combined_report(tmp_path: Path) -> None:
    data = default_config_data()
    env: dict[str, str] = {}
    expected: dict[str, tuple[int, str]] = {}
    for index in range(20):
        workspace_id, name, region = WORKSPACES[index % 3]
        variable, token = f"TOKEN_{index:02d}", f"sandbox-fleet-{index:02d}"
        # Every fifth connector's token lacks "Write tags"; connector 13 uses a revoked token.
        labels = [label for label in ALL_LABELS if label != "Write tags" or index % 5]
        data["tokens"].append(
            {
                "value": token,
                "workspace": workspace_id,
                "permissions": labels,
                "status": "revoked" if index == 13 else "active",
            }
        )
        env[variable] = token
        text = (
            EXAMPLE.read_text(encoding="utf-8")
            .replace("name: helpdesk-migration", f"name: customer-{index:02d}")
            .replace("id: abc12xyz", f"id: {workspace_id}")
            .replace("name: Acme Support", f"name: {name}")
            .replace("region: us", f"region: {region}")
            .replace("token_env: INTERCOM_ACCESS_TOKEN", f"token_env: {variable}")
        )
        path = tmp_path / f"customer-{index:02d}.yaml"
        path.write_text(text, encoding="utf-8")
        expected[str(path)] = (
            (3, "rejected") if index == 13 else ((1, "valid") if index % 5 == 0 else (0, "valid"))
        )
    with served(data) as world:
        env["INTERCOM_API_URL"] = world.base_url
        run = run_cli("validate", str(tmp_path / "*.yaml"), "--format", "json", env=env)
    report = json.loads(run.stdout)
    found = {c["path"]: (c["exit_code"], c["token"]["status"]) for c in report["connectors"]}
    assert found == expected
    assert run.code == 3 == report["exit_code"]
    junit_suites = run.reports["junit"].count("<testsuite ")
    assert junit_suites == 20
    for connector in report["connectors"]:
        if connector["exit_code"] == 1:
            missing = [p for p in connector["permissions"] if p["status"] == "missing"]
            assert [(p["data_type"], p["access"]) for p in missing] == [("tags", "write")]


def test_text_from_intercom_cannot_inject_workflow_commands_or_break_reports(tmp_path: Path) -> None:
    data = default_config_data()
    data["workspaces"][0]["name"] = "Acme\n::error file=x::pwned\x1b[31m"
    with served(data) as world:
        run = validate_example(world.base_url, CANARY)  # JUnit and SARIF are schema-checked by run_cli
    assert run.code == 1  # the name does not match what connector.yaml declares
    assert "\x1b" not in run.stdout and "\n::error" not in run.stdout
    assert "\n::error file=x" not in run.reports["github"]
