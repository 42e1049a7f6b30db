"""The one table of which format renders what: complete, typed as it claims, and imported lazily."""

from __future__ import annotations

import inspect
import subprocess
import sys
from importlib import import_module
from pathlib import Path
from typing import get_type_hints

import pytest

from validator import formats
from validator.errors import ExitCode
from validator.formats import RENDERERS, Format, Subject, UnsupportedFormat, formats_for, renderer
from validator.lint import LintResult
from validator.plan import Plan
from validator.report import Report

REPO = Path(__file__).resolve().parents[2]
# What each subject is, as its renderers must take it.
SUBJECT_TYPES: dict[Subject, type] = {Subject.REPORT: Report, Subject.LINT: LintResult, Subject.PLAN: Plan}
FORMAT_MODULES = sorted(
    path.stem for path in (REPO / "validator" / "formats").glob("*.py") if path.stem != "__init__"
)


def test_every_subject_has_a_type_and_renderers() -> None:
    assert set(SUBJECT_TYPES) == set(Subject) == set(RENDERERS)
    assert all(RENDERERS[subject] for subject in Subject)


def test_every_format_renders_the_report_and_the_documented_formats_render_lint_and_plan() -> None:
    assert formats_for(Subject.REPORT) == tuple(Format)
    assert formats_for(Subject.LINT) == (Format.TEXT, Format.JSON, Format.GITHUB, Format.SARIF, Format.JUNIT)
    assert formats_for(Subject.PLAN) == (Format.TEXT, Format.JSON)


@pytest.mark.parametrize(
    ("subject", "fmt"), [(subject, fmt) for subject in Subject for fmt in formats_for(subject)]
)
def test_each_renderer_takes_what_its_subject_is_and_returns_text(subject: Subject, fmt: Format) -> None:
    function = RENDERERS[subject][fmt].resolve()
    hints = get_type_hints(function, localns={cls.__name__: cls for cls in SUBJECT_TYPES.values()})
    first, *others = inspect.signature(function).parameters.values()

    assert hints[first.name] is SUBJECT_TYPES[subject]
    assert hints["return"] is str
    assert all(parameter.default is not inspect.Parameter.empty for parameter in others)
    assert renderer(fmt, subject) is function  # type: ignore[call-overload]


@pytest.mark.parametrize("module", FORMAT_MODULES)
def test_every_public_render_function_of_a_format_module_is_in_the_table(module: str) -> None:
    listed = {
        renderer.function
        for table in RENDERERS.values()
        for renderer in table.values()
        if renderer.module == module
    }
    public = {
        name
        for name, value in vars(import_module(f"validator.formats.{module}")).items()
        if name.startswith("render") and inspect.isfunction(value) and value.__module__.endswith(module)
    }
    assert listed, f"validator.formats.{module} renders nothing in RENDERERS"
    assert public == listed


@pytest.mark.parametrize(
    ("subject", "fmt"),
    [(subject, fmt) for subject in Subject for fmt in Format if fmt not in formats_for(subject)],
)
def test_a_format_a_command_does_not_write_is_a_usage_error_naming_those_it_does(
    subject: Subject, fmt: Format
) -> None:
    with pytest.raises(UnsupportedFormat) as raised:
        renderer(fmt, subject)  # type: ignore[call-overload]
    choices = ", ".join(formats_for(subject))
    assert str(raised.value) == f"unknown format {fmt.value!r} for {subject.value} ({choices})"
    assert raised.value.exit_code is ExitCode.USAGE


def test_the_step_summary_is_rendered_through_the_table() -> None:
    assert formats.STEP_SUMMARY in formats_for(Subject.REPORT)
    report = Report("9.9.9")
    assert formats.step_summary(report) == RENDERERS[Subject.REPORT][formats.STEP_SUMMARY].resolve()(report)


def test_importing_the_registry_imports_no_format() -> None:
    code = (
        "import sys, validator.formats; "
        "print(sorted(m for m in sys.modules if m.startswith('validator.formats.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert done.stdout.strip() == "[]"
