"""The command line as other CLI tools have it (issue 13 item 10): `lint -` reads standard input, shell
completion installs and completes, `--help` shows defaults and placeholders in one style, summaries whole.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import EXAMPLE, run_cli

pytestmark = pytest.mark.e2e

COMMANDS = ("lint", "schema", "validate", "fleet", "demo", "sandbox", "login", "init", "plan")
BROKEN = "version: 1\nname: x\nplatform: intercom\nworkspace:\n  id: abc12xyz\n  regoin: eu\n"


def test_lint_dash_reads_standard_input_and_names_it() -> None:
    run = run_cli("lint", "-", stdin=BROKEN)
    assert run.code == 1
    assert "<stdin>:6:3: unknown key 'regoin' in workspace; did you mean 'region'?" in run.stdout

    named = run_cli(
        "lint", "--stdin-filename", "connectors/acme.yaml", "-", "--format", "github", stdin=BROKEN
    )
    assert named.code == 1
    assert "::error file=connectors/acme.yaml,line=6,col=3," in named.stdout

    valid = run_cli("lint", "-", "--format", "json", stdin=EXAMPLE.read_text(encoding="utf-8"))
    assert valid.code == 0, valid.stdout
    assert json.loads(valid.stdout)["files"] == [
        {"path": "<stdin>", "valid": True, "error": None, "problems": [], "warnings": []}
    ]


def test_lint_dash_goes_with_files_in_the_order_given(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "good.yaml")
    run = run_cli("lint", "--format", "json", "good.yaml", "-", stdin=BROKEN, cwd=tmp_path)
    assert run.code == 1
    files = json.loads(run.stdout)["files"]
    assert [(file["path"], file["valid"]) for file in files] == [("good.yaml", True), ("<stdin>", False)]


def test_stdin_filename_without_dash_is_a_usage_error() -> None:
    run = run_cli("lint", "--stdin-filename", "x.yaml", str(EXAMPLE))
    assert run.code == 2
    assert (
        run.stderr
        == "connector-validator: error: --stdin-filename names standard input: give - as the path too\n"
    )


def test_lint_without_a_path_checks_connector_yaml_in_the_current_directory(tmp_path: Path) -> None:
    # What the README says: the default is ./connector.yaml.
    missing = run_cli("lint", cwd=tmp_path)
    assert missing.code == 2
    assert "connector.yaml: cannot read: no such file" in missing.stdout + missing.stderr
    shutil.copy(EXAMPLE, tmp_path / "connector.yaml")
    found = run_cli("lint", cwd=tmp_path)
    assert (found.code, found.stderr) == (0, "")


def test_show_completion_prints_a_bash_script_that_completes_commands_and_choices() -> None:
    run = run_cli("--show-completion", "bash")
    assert run.code == 0, run.stderr
    assert "complete -o default -F _connector_validator_completion connector-validator" in run.stdout
    assert "_CONNECTOR_VALIDATOR_COMPLETE=complete_bash" in run.stdout

    def complete(words: str) -> list[str]:
        env = {
            "_CONNECTOR_VALIDATOR_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split(" ")) - 1),
        }
        answer = run_cli(env=env)
        assert answer.code == 0, answer.stderr
        return answer.stdout.split()

    assert complete("connector-validator va") == ["validate"]
    assert complete("connector-validator validate --format ") == [
        "text",
        "json",
        "junit",
        "sarif",
        "github",
        "markdown",
    ]


def test_install_completion_writes_the_script_for_the_shell(tmp_path: Path) -> None:
    run = run_cli("--install-completion", "bash", env={"HOME": str(tmp_path)})
    assert run.code == 0, run.stderr
    script = tmp_path / ".bash_completions" / "connector-validator.sh"
    assert "_connector_validator_completion" in script.read_text(encoding="utf-8")
    assert str(script) in (tmp_path / ".bashrc").read_text(encoding="utf-8")


def help_of(*command: str) -> str:
    run = run_cli(*command, "--help", env={"COLUMNS": "100"})
    assert run.code == 0, run.stderr
    return run.stdout


def test_the_command_list_shows_each_summary_whole() -> None:
    text = help_of()
    listed = text.split("Commands:\n", 1)[1]
    assert "..." not in listed
    assert (
        "Check the token of each connector against Intercom: workspace, then every declared permission."
        in (" ".join(listed.split()))
    )
    for command in COMMANDS:
        assert re.search(rf"^  {command} ", listed, re.MULTILINE), command


@pytest.mark.parametrize("command", COMMANDS)
def test_help_uses_one_placeholder_style(command: str) -> None:
    text = help_of(command).replace("<stdin>", "")  # the name lint reports standard input under
    # Upper-case words (FILE, URL, NAME, FORMAT, SECONDS, N), never Click's `<path>`, `<int range>`, `[a|b]`.
    assert not re.search(r"<[a-z][a-z |_]*>|\[[a-z_]+\|", text), text


@pytest.mark.parametrize("command", ["lint", "validate", "plan", "login"])
def test_help_shows_the_default_path(command: str) -> None:
    assert "[default: ./connector.yaml]" in " ".join(help_of(command).split())


def test_validate_help_names_the_report_option_format_equals_file() -> None:
    text = help_of("validate")
    assert "--report FORMAT=FILE" in text
    for option in ("--output FILE", "--api-url URL", "--format FORMAT", "--timeout SECONDS"):
        assert option in text
    assert "--token-env NAME" in help_of("init")


def test_lint_dash_with_standard_input_closed_is_one_line_and_exit_2() -> None:
    done = subprocess.run(
        ["sh", "-c", 'exec "$0" -m validator lint - <&-', sys.executable],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == "<stdin>: cannot read: standard input is closed\n"
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
