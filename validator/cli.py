"""The command line: parses options, calls the core, maps outcomes to exit codes. Nothing else.

Heavy modules are imported inside the command that needs them: start-up time is what users feel in
pre-commit hooks and CI steps.
"""

from __future__ import annotations

import io
import math
import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from validator import __version__
from validator.formats import Format

EXIT_CODES_HELP = """
Exit codes: 0 the token is valid, the workspace matches and every declared permission is granted;
1 a declared permission is missing or plan-restricted, or the workspace id/region/name mismatches;
2 usage or connector.yaml error, including the token variable being unset or empty;
3 Intercom rejected the token (GET /me answered 401);
4 inconclusive: nothing failed, but at least one verdict could not be reached.
With several files the most severe wins: 2, then 3, then 1, then 4, then 0.
Report files are written (atomically) before anything is printed. When the run cannot deliver its output:
5 a report file or the step summary could not be written (the previous file is left as it was);
6 standard output is closed or could not be written (e.g. a full disk);
141 the reader of standard output went away (broken pipe);
130 interrupted (SIGINT, Ctrl-C); 143 terminated (SIGTERM); 70 a bug in this tool.
"""

app = typer.Typer(
    name="connector-validator",
    help="Check that an Intercom token grants what a connector.yaml declares.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

DEFAULT_SPEC = "connector.yaml"
EXIT_USAGE = 2
EXIT_INTERNAL = 70  # a bug in this tool (EX_SOFTWARE), never a verdict
EXIT_INTERRUPTED = 130  # SIGINT
EXIT_TERMINATED = 143  # SIGTERM


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print a one-line error on stderr and exit with `code`."""
    typer.echo(f"connector-validator: error: {message}", err=True)
    raise typer.Exit(code)


def expand(patterns: list[str]) -> list[Path]:
    """Paths as given, with glob patterns expanded (sorted); a pattern matching nothing is a usage error."""
    import glob

    paths: list[Path] = []
    for pattern in patterns:
        # A file named like a pattern (`[prod].yaml`) is that file: names come before globs.
        if glob.has_magic(pattern) and not os.path.lexists(pattern):
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                fail(f"no file matches {pattern!r}")
            paths.extend(Path(match) for match in matches)
        else:
            paths.append(Path(pattern))
    return paths


def finite(value: float) -> float:
    """Option callback: refuse `nan` and `inf`, which every `min=`/`max=` comparison lets through."""
    if not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a number of seconds")
    return value


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"connector-validator {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", callback=version_callback, is_eager=True, help="Print the version and exit."
        ),
    ] = None,
) -> None:
    """Check that an Intercom token grants what a connector.yaml declares."""


@app.command()
def lint(
    paths: Annotated[list[str] | None, typer.Argument(help="connector.yaml files or globs.")] = None,
    output_format: Annotated[
        Format, typer.Option("--format", "-f", help="text, json, github, sarif or junit.")
    ] = Format.TEXT,
) -> None:
    """Check connector.yaml files offline: one line per problem, `path:line:col: message (json.path)`.

    Exit codes: 0 all files valid, 1 a file is invalid, 2 usage error (e.g. a missing file).
    """
    from validator.formats import Subject, UnsupportedFormat, renderer
    from validator.lint import lint_paths

    result = lint_paths(expand(paths or [DEFAULT_SPEC]))
    try:
        text = renderer(output_format, Subject.LINT)(result)
    except UnsupportedFormat as error:
        fail(str(error))
    if output_format not in (Format.TEXT, Format.JSON):  # CI formats annotate lines; an unread file has none
        for file in result.files:
            if file.error is not None:
                typer.echo(f"{file.path}: {file.error}", err=True)
    if text:
        typer.echo(text, nl=not text.endswith("\n"))
    raise typer.Exit(result.exit_code)


@app.command()
def schema() -> None:
    """Print the JSON Schema of connector.yaml."""
    from validator.schemas import schema_path

    typer.echo(schema_path("connector.schema.json").read_text(encoding="utf-8"), nl=False)


@app.command(epilog=EXIT_CODES_HELP)
def validate(
    paths: Annotated[list[str] | None, typer.Argument(help="connector.yaml files or globs.")] = None,
    output_format: Annotated[
        Format,
        typer.Option(
            "--format", "-f", help="Format of the main report: text, json, junit, sarif, github, markdown."
        ),
    ] = Format.TEXT,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the main report to FILE; stdout then gets text."),
    ] = None,
    reports: Annotated[
        list[str] | None,
        typer.Option("--report", help="Also write FORMAT=FILE (repeatable), e.g. junit=reports/junit.xml."),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url",
            envvar="INTERCOM_API_URL",
            help="Replace the regional Intercom host (a proxy, or the sandbox). https unless loopback.",
        ),
    ] = None,
    token_stdin: Annotated[
        bool,
        typer.Option("--token-stdin", help="Read the token from standard input instead of auth.token_env."),
    ] = False,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Requests in flight at most, across all connectors.")
    ] = 16,
    timeout: Annotated[
        float, typer.Option(min=0.1, callback=finite, help="Read timeout per request, in seconds.")
    ] = 15.0,
    retry_budget: Annotated[
        float,
        typer.Option(
            min=0,
            callback=finite,
            help="Longest total wait, in seconds, for retries of 429, 5xx and network errors.",
        ),
    ] = 30.0,
) -> None:
    """Check the token of each connector against Intercom: workspace, then every declared permission."""
    from validator.run import ValidateRequest, run_validate

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
        )
    )
    raise typer.Exit(code)


@app.command()
def demo() -> None:
    """Run `validate` on the example connector.yaml against a built-in Intercom sandbox (no token needed)."""
    from validator.demo import run_demo

    raise typer.Exit(run_demo())


@app.command()
def sandbox(
    config: Annotated[Path | None, typer.Option("--config", help="Sandbox configuration (YAML).")] = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1; 0 picks a free one.")] = 0,
) -> None:
    """Serve the Intercom sandbox on 127.0.0.1 to rehearse CI wiring offline."""
    from validator.sandbox.cli_entry import run
    from validator.sandbox.config import SandboxConfigError

    try:
        run(config, port, sys.stdout)
    except SandboxConfigError as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot serve on 127.0.0.1:{port}: {error.strerror or error}")


_signals_received: list[int] = []


def _on_signal(signum: int, frame: object) -> None:
    """SIGINT and SIGTERM stop the run the way Ctrl-C does, so that `finally` blocks run: a report being
    written is then left as it was before (its temporary file removed). A second signal while stopping is
    ignored, so that this clean-up cannot itself be cut short."""
    if _signals_received:
        return
    _signals_received.append(signum)
    raise KeyboardInterrupt


def _stopped_by_signal() -> NoReturn:
    import signal

    terminated = _signals_received[:1] == [signal.SIGTERM]
    _say("terminated" if terminated else "interrupted")
    sys.exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)


def _say(message: str) -> None:
    try:
        sys.stderr.write(f"connector-validator: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass  # stderr is unusable: nobody left to tell


def _guard_standard_streams() -> None:
    """Make stdout failures distinct errors, and keep descriptors 1 and 2 taken.

    A closed descriptor 1 would be reused by the next file opened (a report), so that anything printed
    would land in it: it is pointed at /dev/null instead, and printing says that stdout is closed.
    """
    from validator.files import GuardedStdout, QuietStderr, silence_descriptor

    for descriptor, name in ((1, "stdout"), (2, "stderr")):
        stream = getattr(sys, name)
        try:
            os.fstat(descriptor)
            usable = stream is not None
        except OSError:
            usable = False
        if not usable:
            silence_descriptor(descriptor)
            setattr(sys, name, None)
        elif isinstance(stream, io.TextIOWrapper):
            # A terminal or PYTHONIOENCODING that cannot encode "→" or a workspace name must not cost the
            # report: such characters print as "?" instead of ending the run with UnicodeEncodeError.
            stream.reconfigure(errors="replace")
    sys.stdout = GuardedStdout(sys.stdout)
    sys.stderr = QuietStderr(sys.stderr)


def main() -> None:
    """Console-script entry point: no traceback ever reaches the user."""
    import signal

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _on_signal)
    _guard_standard_streams()
    from validator.files import StdoutError

    try:
        app()
    except KeyboardInterrupt:
        _stopped_by_signal()
    except SystemExit:
        if _signals_received:  # the CLI framework turned the KeyboardInterrupt into an exit
            _stopped_by_signal()
        raise
    except StdoutError as error:
        if _signals_received:
            _stopped_by_signal()
        _say(f"error: {error.message()}")
        sys.exit(int(error.exit_code))
    except Exception as error:  # a bug: say so in one line, without details that could hold secrets
        if _signals_received:
            _stopped_by_signal()
        if os.environ.get("CONNECTOR_VALIDATOR_DEBUG"):
            raise
        _say(
            f"internal error ({type(error).__name__}); "
            "set CONNECTOR_VALIDATOR_DEBUG=1 for details and report it"
        )
        sys.exit(EXIT_INTERNAL)


# `login`, `init` and `plan` live in their own module; importing it registers them on `app`.
from validator import cli_auth  # noqa: E402, F401
