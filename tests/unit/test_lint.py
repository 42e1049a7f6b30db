"""The lint core: one result per file, exit codes, and its text and JSON renderings (validator.formats)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from validator.errors import ExitCode
from validator.formats import Format, render_lint
from validator.lint import FileResult, LintResult, lint_path, lint_paths
from validator.spec import SpecProblem


def render_text(result: LintResult) -> str:
    return render_lint(Format.TEXT, result)


def render_json(result: LintResult) -> str:
    return render_lint(Format.JSON, result)


REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "tests" / "data" / "specs"
VALID = sorted((SPECS / "valid").glob("*.yaml"))
INVALID = sorted((SPECS / "invalid").glob("*.yaml"))


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_every_invalid_file_exits_1(path: Path) -> None:
    result = lint_paths([path])
    assert result.exit_code is ExitCode.FAILED
    assert not result.files[0].valid
    assert result.files[0].problems


def test_valid_files_and_the_repository_example_exit_0() -> None:
    result = lint_paths([*VALID, REPO / "connector.yaml"])
    assert result.exit_code is ExitCode.OK
    assert render_text(result) == ""


def test_a_missing_file_is_a_usage_error_even_beside_invalid_ones(tmp_path: Path) -> None:
    result = lint_paths([INVALID[0], tmp_path / "absent.yaml", VALID[0]])
    assert result.exit_code is ExitCode.USAGE
    assert [file.valid for file in result.files] == [False, False, True]
    assert result.files[1].error == "no such file"


def test_no_files_is_a_usage_error() -> None:
    assert lint_paths([]).exit_code is ExitCode.USAGE


def test_one_bad_file_does_not_hide_the_next() -> None:
    result = lint_paths(INVALID[:3])
    assert [file.path for file in result.files] == [str(path) for path in INVALID[:3]]
    alone = [lint_path(path).problems for path in INVALID[:3]]  # what each file gets when linted by itself
    assert all(alone)
    assert [file.problems for file in result.files] == alone
    assert result.problems == (*alone[0], *alone[1], *alone[2])
    assert [problem.file for problem in result.problems] == [
        str(path) for path, problems in zip(INVALID[:3], alone, strict=True) for _ in problems
    ]


def test_the_flat_problem_list_is_every_problem_file_by_file() -> None:
    a1, a2, b1 = (SpecProblem(name, line, 1, "wrong", "$") for name, line in [("a", 1), ("a", 2), ("b", 1)])
    result = LintResult(
        (
            FileResult("a", problems=(a1, a2)),
            FileResult("ok"),
            FileResult("gone", error="no such file"),
            FileResult("b", problems=(b1,)),
        )
    )
    assert result.problems == (a1, a2, b1)


def test_text_is_one_line_per_problem(tmp_path: Path) -> None:
    many = SPECS / "invalid" / "many-problems.yaml"
    result = lint_paths([many, VALID[0], tmp_path / "absent.yaml"])
    lines = render_text(result).splitlines()
    assert (
        lines[0]
        == f"{many}:9:10: unsupported format version 3; this connector-validator reads version 1 ($.version)"
    )
    assert len(lines) == len(result.files[0].problems) + 1
    assert lines[-1] == f"{tmp_path / 'absent.yaml'}: cannot read: no such file"


def test_json_has_the_documented_shape(tmp_path: Path) -> None:
    problem = SpecProblem("c.yaml", 3, 7, "name must not be empty", "$.name")
    result = LintResult(
        (
            FileResult("c.yaml", problems=(problem,)),
            FileResult("ok.yaml"),
            FileResult("gone.yaml", error="no such file"),
        )
    )
    assert json.loads(render_json(result)) == {
        "format_version": 1,
        "files": [
            {
                "path": "c.yaml",
                "valid": False,
                "error": None,
                "problems": [
                    {"line": 3, "col": 7, "message": "name must not be empty", "json_path": "$.name"}
                ],
                "warnings": [],
            },
            {"path": "ok.yaml", "valid": True, "error": None, "problems": [], "warnings": []},
            {"path": "gone.yaml", "valid": False, "error": "no such file", "problems": [], "warnings": []},
        ],
    }


def test_json_of_real_files_round_trips_every_problem() -> None:
    result = lint_paths(INVALID)
    files = json.loads(render_json(result))["files"]
    assert [len(file["problems"]) for file in files] == [len(file.problems) for file in result.files]
    assert all(not file["valid"] for file in files)
