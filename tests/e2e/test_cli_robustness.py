"""The CLI against inputs an adversarial review found: it answers in one line with its exit code, or runs.

Pipes that would block a read, non-finite numbers, a terminal that cannot encode the report's arrows, and a
file whose name looks like a glob pattern.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness import CANARY, EXAMPLE, run_cli, served, write_spec

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("command", ["lint", "plan", "validate"])
def test_a_named_pipe_is_refused_without_opening_it(tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "connector.yaml"
    os.mkfifo(fifo)

    run = run_cli(command, str(fifo), timeout=10)  # opening the pipe would wait for a writer forever

    assert run.code == 2
    assert f"{fifo}: cannot read: it is a named pipe (FIFO), not a regular file" in run.stdout + run.stderr


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_is_refused_by_lint() -> None:
    run = run_cli("lint", "/dev/zero", timeout=10)

    assert run.code == 2
    assert run.stdout == "/dev/zero: cannot read: it is a device, not a regular file; give the path of a "\
        "connector.yaml file\n"  # fmt: skip


@pytest.mark.parametrize(
    ("option", "value"),
    [("--timeout", "nan"), ("--retry-budget", "nan"), ("--timeout", "inf"), ("--retry-budget", "inf")],
)
def test_non_finite_seconds_are_a_usage_error(option: str, value: str) -> None:
    # A run that passes with finite values: `nan` used to crash (--timeout) or silently disable retries.
    with served() as sandbox:
        env = {"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": sandbox.base_url}
        run = run_cli("validate", str(EXAMPLE), option, value, env=env)

        assert run.code == 2, run.stdout + run.stderr
        assert f"Invalid value for '{option}': {value} is not a number of seconds" in run.stderr
        assert sandbox.paths_sent() == []


def test_a_terminal_that_cannot_encode_the_report_still_gets_all_of_it() -> None:
    with served() as sandbox:
        env = {
            "PYTHONIOENCODING": "ascii",
            "INTERCOM_ACCESS_TOKEN": CANARY,
            "INTERCOM_API_URL": sandbox.base_url,
        }
        run = run_cli("validate", str(EXAMPLE), env=env)

    assert run.code == 0, run.stderr
    assert "GET /contacts ? 200 (proof)" in run.stdout  # "→" replaced, nothing lost
    assert "Result: PASS" in run.stdout
    assert run.reports["markdown"].count("→") > 0  # files keep UTF-8 whatever the terminal's encoding


def test_a_file_named_like_a_glob_pattern_is_that_file(tmp_path: Path) -> None:
    write_spec(tmp_path, name="[prod].yaml")
    write_spec(tmp_path, lambda text: text.replace("version: 1", "version: 2"), name="p.yaml")

    literal = run_cli("lint", "[prod].yaml", cwd=tmp_path)  # as a pattern it would match p.yaml only
    pattern = run_cli("lint", "[pq].yaml", cwd=tmp_path)  # no such file: still a pattern

    assert (literal.code, literal.stdout) == (0, "")
    assert pattern.code == 1 and pattern.stdout.startswith("p.yaml:")


def test_lint_sarif_on_a_key_holding_a_lone_surrogate_is_a_lint_error(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path, lambda text: text.replace("permissions:", 'permissions:\n  "pe\\ud800ople": [read]')
    )

    run = run_cli("lint", "--format", "sarif", str(spec))

    assert run.code == 1, run.stderr  # used to be 70: the SARIF writer crashed on the surrogate
    import json

    (result,) = json.loads(run.stdout)["runs"][0]["results"]
    assert "lone surrogate" in result["message"]["text"]
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] > 1


def test_validate_on_a_name_with_a_lone_surrogate_writes_every_report(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, lambda text: text.replace("name: helpdesk-migration", 'name: "conn\\ud800x"'))
    with served() as sandbox:
        env = {"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": sandbox.base_url}
        run = run_cli("validate", str(spec), env=env)  # run_cli checks every side report against its schema

    assert run.code == 2, run.stderr  # was 70, with a 0-byte JSON report
    assert "lone surrogate" in run.stdout and run.reports["json"].strip()


def test_a_hostile_workspace_name_is_inert_in_the_markdown_report_and_step_summary(tmp_path: Path) -> None:
    from harness import default_config_data

    hostile = "[click](https://evil.example) ![x](http://evil.example/x.png) <img src=x onerror=alert(1)>"
    data = default_config_data()
    data["workspaces"][0]["name"] = hostile
    summary = tmp_path / "summary.md"
    with served(data) as sandbox:
        env = {
            "INTERCOM_ACCESS_TOKEN": CANARY,
            "INTERCOM_API_URL": sandbox.base_url,
            "GITHUB_STEP_SUMMARY": str(summary),
        }
        spec = write_spec(tmp_path)  # declares "Acme Support": the mismatch shows the name Intercom sent
        run = run_cli("validate", str(spec), "--format", "github", env=env, files=[summary])

    for text in (run.reports["markdown"], summary.read_text(encoding="utf-8")):
        assert "evil.example" in text  # the name is shown...
        for raw in ("<img", "](", "![", "https://", "http://"):
            assert raw not in text, raw  # ...as text, not as a link, an image or HTML
