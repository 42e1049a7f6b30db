"""One table of exit codes: every command's `--help`, the README and the error family follow `ExitCode`."""

from __future__ import annotations

import ast
import importlib.util
import io
from pathlib import Path
from types import ModuleType

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from validator.cli import app
from validator.errors import (
    ANY_COMMAND,
    EXIT_CODES,
    ExitCode,
    SeveralErrors,
    UsageError,
    ValidatorError,
    most_severe,
)
from validator.files import StdoutError, TargetError
from validator.init.request import InitError
from validator.intercom import ApiUrlError
from validator.login.protocol import LoginError
from validator.plan import PlanError
from validator.run import OutputError, ValidateRequest, run_validate
from validator.sandbox.config import SandboxConfigError
from validator.tokens import Scrubber, TokenInputError

REPO = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("exit_codes_script", REPO / "scripts" / "exit_codes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _squeezed(text: str) -> str:
    """Text without whitespace: help is wrapped (and words broken at hyphens) at any width."""
    return "".join(text.split())


def _commands() -> list[str]:
    group = get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    return list(group.commands)


def test_every_command_has_its_exit_codes_and_every_code_a_command() -> None:
    assert sorted(_commands()) == sorted(EXIT_CODES)
    listed = {code for codes in EXIT_CODES.values() for code in codes} | set(ANY_COMMAND)
    assert listed == set(ExitCode)
    for codes in EXIT_CODES.values():
        assert not set(codes) & set(ANY_COMMAND) and list(codes) == sorted(set(codes))


@pytest.mark.parametrize("code", list(ExitCode), ids=lambda code: code.name)
def test_every_meaning_is_one_line_without_semicolons(code: ExitCode) -> None:
    for command in EXIT_CODES:
        meaning = code.meaning_for(command)
        assert meaning and meaning.isprintable() and ";" not in meaning and not meaning.endswith(".")
    assert set(code.by_command) <= {command for command, codes in EXIT_CODES.items() if code in codes}


@pytest.mark.parametrize("command", sorted(EXIT_CODES))
def test_help_lists_each_code_of_the_command_with_its_meaning(command: str) -> None:
    run = CliRunner().invoke(app, [command, "--help"])
    assert run.exit_code == 0
    epilog = run.output[run.output.index("Exit codes:") :]
    squeezed = _squeezed(epilog)
    numbers = [int(word.strip(":;.")) for word in epilog.split() if word.strip(":;.").isdigit()]
    for code in (*EXIT_CODES[command], *ANY_COMMAND):
        assert _squeezed(f"{code.value} {code.meaning_for(command)}") in squeezed, code
    # No code the command cannot end with (numbers inside meanings, like "401", are not exit codes).
    assert {number for number in numbers if number in set(ExitCode)} <= {
        *EXIT_CODES[command],
        *ANY_COMMAND,
    }


def test_the_readme_table_is_generated_from_exit_code() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    script = _script()
    assert script.updated(readme) == readme, "run python scripts/exit_codes.py"
    rows = [line for line in readme.splitlines() if line.startswith("| ") and " | " in line]
    for code in ExitCode:
        row = next(row for row in rows if row.startswith(f"| {code.value} | "))
        assert code.meaning in row
        for sense in code.by_command.values():
            assert sense in row


def test_no_module_hand_lists_exit_codes() -> None:
    """Exit codes are `ExitCode` members: no `EXIT_…` constant anywhere in validator/ but the one table of
    which command ends with which (`validator.errors.EXIT_CODES`)."""
    for path in (REPO / "validator").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            names = {target.id for target in targets if isinstance(target, ast.Name)}
            allowed = {"EXIT_CODES"} if path == REPO / "validator" / "errors.py" else set()
            assert not {name for name in names if name.startswith("EXIT_")} - allowed, path
            if isinstance(node, ast.ClassDef) and path != REPO / "validator" / "errors.py":
                assert node.name != "ExitCode", path


def test_only_the_cli_entry_prints_errors() -> None:
    """No module writes the `connector-validator: error:` line itself (run, login and init once did): they
    raise, and `validator.cli.main` prints."""
    for path in (REPO / "validator").rglob("*.py"):
        if path != REPO / "validator" / "cli" / "__init__.py":
            assert "connector-validator: error" not in path.read_text(encoding="utf-8"), path
    entry = (REPO / "validator" / "cli" / "__init__.py").read_text(encoding="utf-8")
    assert entry.count("except ValidatorError") == 1


# --- the error family ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UsageError("x"), ExitCode.USAGE),
        (TokenInputError("x"), ExitCode.USAGE),
        (ApiUrlError("x"), ExitCode.USAGE),
        (PlanError("x"), ExitCode.USAGE),
        (SandboxConfigError("x"), ExitCode.USAGE),
        (TargetError("x"), ExitCode.REPORT_NOT_WRITTEN),
        (OutputError("x"), ExitCode.REPORT_NOT_WRITTEN),
        (StdoutError(32, "x"), ExitCode.BROKEN_PIPE),
        (StdoutError(28, "x"), ExitCode.STDOUT_FAILED),
        (LoginError("x", ExitCode.LOGIN_DENIED), ExitCode.LOGIN_DENIED),
        (InitError("x", ExitCode.INCONCLUSIVE), ExitCode.INCONCLUSIVE),
        (LoginError("x"), ExitCode.USAGE),
        (InitError("x"), ExitCode.USAGE),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_each_layer_raises_a_validator_error_with_its_code(error: ValidatorError, code: ExitCode) -> None:
    assert isinstance(error, ValidatorError) and error.exit_code is code
    assert error.lines() == (error.message,)


def test_several_errors_print_one_line_each_in_order_and_end_with_the_most_severe_code() -> None:
    token = "dG9rOjAwc2V2ZXJhbC1lcnJvcnMtdGVzdA=="
    several = SeveralErrors(
        [OutputError(f"cannot write a: {token}"), OutputError("cannot write b"), StdoutError(32, "pipe")]
    ).scrubbed(Scrubber([token]))
    assert several.exit_code is ExitCode.BROKEN_PIPE
    assert several.exit_code is most_severe([ExitCode.REPORT_NOT_WRITTEN, ExitCode.BROKEN_PIPE])
    assert several.lines() == (
        "cannot write a: [REDACTED]",
        "cannot write b",
        "standard output was closed by its reader (broken pipe); output stopped",
    )
    assert token not in several.message
    with pytest.raises(ValueError):
        SeveralErrors([])


def test_usage_errors_of_validate_are_raised_before_any_request(tmp_path: Path) -> None:
    sent: list[object] = []

    def transport() -> object:
        sent.append(1)
        raise AssertionError("no request may be sent")

    stderr = io.StringIO()
    with pytest.raises(UsageError, match=r"^unknown report format 'nope' \(choose from text, json"):
        run_validate(
            ValidateRequest(paths=[tmp_path / "c.yaml"], reports=[f"nope={tmp_path / 'r'}"]),
            environ={},
            stderr=stderr,
            transport_factory=transport,  # type: ignore[arg-type]
        )
    assert not sent and stderr.getvalue() == ""  # raised, not printed: only the CLI prints errors
