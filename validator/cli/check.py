"""The checking commands: `validate` (online), `lint`, `plan` and `schema` (offline).

Each only parses options, builds the request and calls the core, imported inside the command so that
`connector-validator --help` stays fast. Errors are raised, never printed here: `validator.cli.main`
turns them into one line and an exit code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from validator.cli.options import (
    DEFAULT_SPEC,
    DEFAULT_SPEC_SHOWN,
    ApiUrl,
    Quiet,
    SpecPath,
    Verbose,
    expand,
    finite,
    policy_today,
    verbosity,
)
from validator.errors import VERDICTS, UsageError
from validator.formats import Format
from validator.model import ExcessMode
from validator.terminal import ColorChoice

# The order `validator.errors.most_severe` combines verdicts in.
VALIDATE_NOTE = (
    "With several files the most severe wins: "
    + ", then ".join(str(code.value) for code in sorted(VERDICTS, key=lambda code: -code.severity))
    + ". Report files are written (atomically) before anything is printed."
)


def lint(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[PATH]...",
            help=f"connector.yaml files or globs; - reads standard input.  [default: {DEFAULT_SPEC_SHOWN}]",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        Format,
        typer.Option("--format", "-f", metavar="FORMAT", help="text, json, github, sarif or junit."),
    ] = Format.TEXT,
    stdin_filename: Annotated[
        str | None,
        typer.Option(
            "--stdin-filename", metavar="NAME", help="The file name to report for - (default: <stdin>)."
        ),
    ] = None,
) -> None:
    """Check connector.yaml files offline: one line per problem, `path:line:col: message (json.path)`."""
    import sys

    from validator.formats import Subject, renderer
    from validator.lint import STDIN, lint_paths

    given = paths or [DEFAULT_SPEC]
    if stdin_filename is not None and STDIN not in given:
        raise UsageError("--stdin-filename names standard input: give - as the path too")
    # `-` is standard input, never a glob or a file of that name (`./-` is the file).
    ordered = [found for path in given for found in ([Path(STDIN)] if path == STDIN else expand([path]))]
    stdin = sys.stdin.buffer if sys.stdin is not None else None  # None: descriptor 0 was closed
    result = lint_paths(ordered, policy_today(), stdin=stdin, stdin_name=stdin_filename)
    text = renderer(output_format, Subject.LINT)(result)
    if output_format not in (Format.TEXT, Format.JSON):  # CI formats annotate lines; an unread file has none
        for file in result.files:
            if file.error is not None:
                typer.echo(f"{file.path}: {file.error}", err=True)
    if text:
        typer.echo(text, nl=not text.endswith("\n"))
    raise typer.Exit(result.exit_code)


def schema() -> None:
    """Print the JSON Schema of connector.yaml."""
    from validator.schemas import schema_path

    typer.echo(schema_path("connector.schema.json").read_text(encoding="utf-8"), nl=False)


def validate(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[PATH]...",
            help=f"connector.yaml files or globs.  [default: {DEFAULT_SPEC_SHOWN}]",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="Format of the main report: text, json, junit, sarif, github or markdown.",
        ),
    ] = Format.TEXT,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write the main report to FILE; stdout then gets text."
        ),
    ] = None,
    reports: Annotated[
        list[str] | None,
        typer.Option(
            "--report",
            metavar="FORMAT=FILE",
            help="Also write a report (repeatable), e.g. junit=reports/junit.xml.",
        ),
    ] = None,
    api_url: ApiUrl = None,
    token_stdin: Annotated[
        bool,
        typer.Option("--token-stdin", help="Read the token from standard input instead of auth.token_env."),
    ] = False,
    concurrency: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            min=1,
            max=256,
            show_default=False,
            help="Requests in flight at most, across all connectors "
            "[default: 40 per distinct workspace, at most 256].",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            metavar="SECONDS", min=0.1, callback=finite, help="Read timeout per request, in seconds."
        ),
    ] = 15.0,
    retry_budget: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            min=0,
            callback=finite,
            help="Longest total wait, in seconds, for retries of 429, 5xx and network errors.",
        ),
    ] = 30.0,
    excess: Annotated[
        ExcessMode | None,
        typer.Option(
            "--excess",
            metavar="MODE",
            help="Replace policy.excess of every file: off, warn or fail on granted undeclared permissions.",
        ),
    ] = None,
    expiry_warning: Annotated[
        int,
        typer.Option(
            "--expiry-warning",
            metavar="DAYS",
            min=0,
            help="Warn about a waiver in force that expires within DAYS days.",
        ),
    ] = 14,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            metavar="PATH",
            help="An earlier JSON report: list permissions gained and lost since (probes every permission).",
        ),
    ] = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
    color: Annotated[
        ColorChoice,
        typer.Option(
            "--color",
            metavar="WHEN",
            help=(
                "Colour the text report: auto (on a terminal, unless NO_COLOR; FORCE_COLOR forces it), "
                "always or never."
            ),
        ),
    ] = ColorChoice.AUTO,
) -> None:
    """Check the token of each connector against Intercom: workspace, then every declared permission."""
    from validator.run import ValidateRequest, run_validate

    chattiness = verbosity(quiet, verbose)
    code = run_validate(
        ValidateRequest(
            paths=expand(paths or [DEFAULT_SPEC]),
            output_format=output_format,
            output=output,
            reports=reports or [],
            api_url=api_url,
            token_stdin=token_stdin,
            concurrency=concurrency,
            timeout=timeout,
            retry_budget=retry_budget,
            excess=excess,
            expiry_warning_days=expiry_warning,
            baseline=baseline,
            today=policy_today(),
            verbosity=chattiness,
            color=color,
        )
    )
    raise typer.Exit(code)


def plan(
    path: SpecPath = Path(DEFAULT_SPEC),
    output_format: Annotated[
        Format, typer.Option("--format", "-f", metavar="FORMAT", help="text or json.")
    ] = Format.TEXT,
) -> None:
    """Show what `validate` would send and how each answer is read; offline, no token needed."""
    from validator.formats import Subject, renderer
    from validator.plan import load_plan

    render = renderer(output_format, Subject.PLAN)  # an unsupported format is refused before the file is read
    typer.echo(render(load_plan(path)), nl=False)
