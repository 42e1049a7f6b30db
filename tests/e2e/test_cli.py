"""The commands as a user runs them: exit codes, where output goes, no traceback."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from harness import CANARY, EXAMPLE, REPO, clean_env, run_cli, served

pytestmark = pytest.mark.e2e

INVALID = REPO / "tests" / "data" / "specs" / "invalid"


def test_version_names_the_tool() -> None:
    run = run_cli("--version")
    assert run.code == 0 and run.stdout.startswith("connector-validator ")


def test_help_lists_the_exit_codes_of_validate() -> None:
    run = run_cli("validate", "--help")
    assert run.code == 0
    for fragment in ("0 the token is valid", "3 Intercom rejected the token", "4 inconclusive"):
        assert fragment in " ".join(run.stdout.split())


def test_lint_is_silent_and_exits_0_on_a_valid_file() -> None:
    run = run_cli("lint", str(EXAMPLE))
    assert (run.code, run.stdout) == (0, "")


def test_lint_prints_one_line_per_problem_and_exits_1() -> None:
    run = run_cli("lint", str(INVALID / "duplicate-key.yaml"), str(INVALID / "workspace-counts-write.yaml"))
    assert run.code == 1
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"{INVALID / 'duplicate-key.yaml'}:10:1: duplicate key 'name'")
    assert lines[0].endswith("($.name)")
    assert any("Intercom has no write permission for workspace counts" in line for line in lines)


def test_lint_of_a_missing_file_is_a_usage_error() -> None:
    run = run_cli("lint", str(EXAMPLE), "no-such-connector.yaml")
    assert run.code == 2 and "no-such-connector.yaml" in run.stdout + run.stderr


def test_lint_globs_and_json_output() -> None:
    run = run_cli("lint", str(INVALID / "duplicate-*.yaml"), "--format", "json")
    document = json.loads(run.stdout)
    assert run.code == 1 and len(document["files"]) == 3
    assert all(not file["valid"] for file in document["files"])


def test_lint_sarif_output_points_at_the_problem() -> None:
    run = run_cli("lint", str(INVALID / "duplicate-key.yaml"), "--format", "sarif")
    region = json.loads(run.stdout)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert run.code == 1 and (region["startLine"], region["startColumn"]) == (10, 1)


def test_a_glob_matching_nothing_is_a_usage_error() -> None:
    run = run_cli("lint", "nothing-here/*.yaml")
    assert run.code == 2 and "no file matches" in run.stderr


def test_schema_prints_the_published_schema() -> None:
    run = run_cli("schema")
    schema = json.loads(run.stdout)
    assert run.code == 0 and schema["$id"].endswith("/schemas/connector/v1.json")


def test_demo_shows_a_missing_permission_and_explains_itself() -> None:
    run = run_cli("demo")
    assert run.code == 0
    assert "tags                 write   MISSING" in run.stdout
    assert '[ ] "Write tags"' in run.stdout
    assert (
        "What just happened" in run.stdout
        and "requests the sandbox recorded as changing data: 0" in run.stdout
    )


def test_progress_is_shown_on_a_terminal_and_never_in_a_pipe() -> None:
    with served() as world:
        env = clean_env(
            {"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": world.base_url, "TERM": "xterm"}
        )
        piped = run_cli("validate", str(EXAMPLE), env=env)
        controller, terminal = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "validator", "validate", str(EXAMPLE)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=terminal,
        )
        os.close(terminal)
        on_terminal = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            on_terminal += chunk
        process.wait(timeout=30)
        os.close(controller)
    assert piped.stderr == ""
    assert b"tags:read granted" in on_terminal
    assert CANARY.encode() not in on_terminal


def test_an_unreachable_host_is_inconclusive_with_a_reason(tmp_path: Path) -> None:
    run = run_cli(
        "validate", str(EXAMPLE), "--retry-budget", "0",
        env={"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": "http://127.0.0.1:9"},
    )  # fmt: skip
    assert run.code == 4
    assert "GET /me: no answer: 127.0.0.1:9: connection refused" in run.stdout and "not probed" in run.stdout


def test_every_invalid_case_fails_lint_as_a_command_at_its_stated_place() -> None:
    """The data-driven cases once more, through the real command: one process, every file, exit 1."""
    import re

    expect = re.compile(rb"^# expect: (\d+):(\d+): (.*) \((\$[^()]*)\)\s*$", re.M)
    files = sorted(INVALID.glob("*.yaml"))
    run = run_cli("lint", *map(str, files))
    assert run.code == 1 and len(files) >= 25
    for path in files:
        for line, col, message, json_path in expect.findall(path.read_bytes()):
            prefix = f"{path}:{int(line)}:{int(col)}: "
            shown = [row for row in run.stdout.splitlines() if row.startswith(prefix)]
            assert shown, f"nothing at {prefix}"
            assert any(
                message.decode() in row and row.endswith(f"({json_path.decode()})") for row in shown
            ), shown
