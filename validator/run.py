"""Glue between the `validate` command and the pipeline: token input, report outputs, scrubbing.

Every byte written here passes through `Scrubber`, so that even a bug elsewhere cannot print a token.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import httpx

from validator.baseline import load_baseline
from validator.errors import ExitCode, SeveralErrors, UsageError, ValidatorError
from validator.files import (
    StdoutError,
    TargetError,
    append_regular,
    check_target,
    overwrites_input,
    resolved_target,
    write_atomic,
    write_stdout,
)
from validator.formats import Format, render, step_summary
from validator.intercom import Exchange, check_api_url
from validator.model import ExcessMode, Permission, Verdict, utc_today
from validator.pacing import RetryPolicy, Timeouts
from validator.policy import DEFAULT_EXPIRY_WARNING_DAYS, PolicySettings
from validator.report import Report
from validator.terminal import ColorChoice, Verbosity, one_line, shows_progress, still_waiting, wants_color
from validator.tokens import Scrubber, read_stdin_token
from validator.validate import Ready, RunOptions, prepare_all, validate


@dataclass(frozen=True)
class ValidateRequest:
    paths: Sequence[Path]
    output_format: Format = Format.TEXT
    output: Path | None = None
    reports: Sequence[str] = ()
    api_url: str | None = None
    token_stdin: bool = False
    concurrency: int | None = None  # None: 40 per distinct workspace, at most 256
    timeout: float = 15.0
    retry_budget: float = 30.0
    excess: ExcessMode | None = None  # `--excess`: replaces policy.excess of every file
    expiry_warning_days: int = DEFAULT_EXPIRY_WARNING_DAYS
    baseline: Path | None = None
    today: dt.date | None = None  # the date waivers are judged on; None: today in UTC
    names: Mapping[Path, str] = field(default_factory=dict)  # what reports call a file, if not its path
    verbosity: Verbosity = Verbosity.NORMAL
    color: ColorChoice = ColorChoice.AUTO


def parse_format(name: str) -> Format:
    try:
        return Format(name)
    except ValueError:
        choices = ", ".join(member.value for member in Format)
        raise UsageError(f"unknown report format {name!r} (choose from {choices})") from None


def parse_reports(specs: Sequence[str]) -> list[tuple[Format, Path]]:
    """`FORMAT=FILE` pairs from `--report`."""
    pairs: list[tuple[Format, Path]] = []
    for spec in specs:
        name, sep, file = spec.partition("=")
        if not sep or not file:
            raise UsageError(f"--report expects FORMAT=FILE, got {spec!r}")
        pairs.append((parse_format(name.strip()), Path(file)))
    return pairs


def check_targets(paths: Sequence[Path], summary: Path | None = None, inputs: Sequence[Path] = ()) -> None:
    """Refuse report files that cannot be written before any request is sent, not after.

    `summary` is the GitHub step summary the run will append to, checked the same way (a FIFO there would
    block the run forever). A target that is one of the run's `inputs` (a connector.yaml) is refused: the
    report would replace it.
    """
    seen: set[Path] = set()
    for path in [*paths, *([summary] if summary is not None else [])]:
        resolved = resolved_target(path)
        if resolved in seen:
            raise UsageError(f"{path} is named as the target of two reports")
        replaced = overwrites_input(path, inputs)
        if replaced is not None:
            raise UsageError(f"{path} is an input of this run ({replaced}): a report there would replace it")
        seen.add(resolved)
        try:
            check_target(path, append=path is summary)
        except TargetError as error:
            shown = f"GITHUB_STEP_SUMMARY: {error}" if path is summary else str(error)
            raise UsageError(shown) from None


def write_file(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically (see `validator.files`); a failure is an OutputError."""
    try:
        write_atomic(path, text)
    except TargetError as error:
        raise OutputError(str(error)) from None


class OutputError(ValidatorError):
    """A report file could not be written after the run: one line, exit code 5."""

    exit_code = ExitCode.REPORT_NOT_WRITTEN


def run_validate(
    request: ValidateRequest,
    *,
    environ: Mapping[str, str] | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
) -> ExitCode:
    """Run `validate` end to end and return the report's exit code (0-4).

    Errors are raised as `ValidatorError`s: a usage error (2) before any request is sent; after the run, the
    report files that could not be written (5) and a failing stdout (6, 141), together as `SeveralErrors`,
    once every output that could be written was.
    """
    environ = os.environ if environ is None else environ
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    main_format = request.output_format
    extra = parse_reports(request.reports)
    api_url = check_api_url(request.api_url) if request.api_url else None
    token = read_stdin_token(stdin or sys.stdin) if request.token_stdin else None
    summary = _summary_target(main_format, extra, environ)
    targets = [path for _, path in extra] + ([request.output] if request.output else [])
    check_targets(targets, summary, inputs=request.paths)
    baseline = load_baseline(request.baseline) if request.baseline is not None else None

    prepared = prepare_all(request.paths, environ, token, request.names)
    scrub = Scrubber([item.token for item in prepared if isinstance(item, Ready)])
    status = StatusLines(stderr, scrub, progress=shows_progress(request.verbosity, stderr, environ))
    quiet, verbose = request.verbosity is Verbosity.QUIET, request.verbosity is Verbosity.VERBOSE
    options = RunOptions(
        api_url=api_url,
        concurrency=request.concurrency,
        timeouts=Timeouts(read=request.timeout),
        retry=RetryPolicy(
            max_total_wait=request.retry_budget, max_single_wait=min(10.0, request.retry_budget)
        ),
        transport_factory=transport_factory,
        progress=status.progress if status.shows_progress else None,
        on_exchange=status.exchange if verbose else None,
        on_slow_host=None if quiet else _still_waiting(status, request.timeout),
        policy=PolicySettings(
            today=request.today or utc_today(),
            excess=request.excess,
            expiry_warning_days=request.expiry_warning_days,
            baseline=baseline,
        ),
    )
    try:
        report = validate(prepared, options)
    finally:
        status.clear()
    terminal = Terminal(quiet, wants_color(request.color, stdout, environ))
    errors = _emit(report, main_format, request.output, extra, summary, stdout, scrub, terminal)
    if errors:
        raise SeveralErrors(errors)
    return report.exit_code


def _summary_target(
    main_format: Format, extra: Sequence[tuple[Format, Path]], environ: Mapping[str, str]
) -> Path | None:
    """The GitHub step summary to append to: only when a github report is asked for and the variable set."""
    wants_github = main_format is Format.GITHUB or any(fmt is Format.GITHUB for fmt, _ in extra)
    summary = environ.get("GITHUB_STEP_SUMMARY")
    return Path(summary) if wants_github and summary else None


def _emit(
    report: Report,
    main_format: Format,
    output: Path | None,
    extra: Sequence[tuple[Format, Path]],
    summary: Path | None,
    stdout: TextIO,
    scrub: Scrubber,
    terminal: Terminal | None = None,
) -> list[ValidatorError]:
    """Write every output: files first, each atomically, then stdout, so that a closed or broken stdout
    (or a signal while printing) never costs a report file. Returns what failed, in order: the report files
    (their messages scrubbed), then stdout. Files are always whole and plain; `terminal` shapes stdout's
    text report only (`-q`, colour).
    """
    files = [*extra, *([(main_format, output)] if output is not None else [])]
    errors: list[ValidatorError] = []
    for fmt, path in files:
        try:
            write_file(path, scrub(render(fmt, report)))
        except OutputError as error:
            errors.append(error.scrubbed(scrub))
    if summary is not None:
        try:
            append_regular(summary, scrub(step_summary(report)))
        except TargetError as error:
            errors.append(OutputError(f"GITHUB_STEP_SUMMARY: {error}").scrubbed(scrub))
    shown = Format.TEXT if output is not None else main_format
    try:
        write_stdout(stdout, scrub(_for_stdout(shown, report, terminal or Terminal())))
    except StdoutError as error:
        errors.append(error)
    return errors


@dataclass(frozen=True)
class Terminal:
    """How stdout's text report is shaped: `quiet` keeps the result line and the connectors that could not
    be checked at all, `color` paints it."""

    quiet: bool = False
    color: bool = False


def _for_stdout(fmt: Format, report: Report, terminal: Terminal) -> str:
    """stdout's report: machine formats as they are (whole, never coloured), text as `terminal` says."""
    if fmt is not Format.TEXT:
        return render(fmt, report)
    from validator.formats import text

    return text.render(report, color=terminal.color, quiet=terminal.quiet)


class StatusLines:
    """What a run says on stderr while it works, every line through the scrubber: the self-overwriting
    progress line (a terminal only, `progress`), and whole lines (`-v`'s requests, a slow host), each
    prefixed like the CLI's errors and clearing the progress line first so that the two never mix."""

    def __init__(self, stream: TextIO, scrub: Scrubber, *, progress: bool) -> None:
        self._stream = stream
        self._scrub = scrub
        self.shows_progress = progress
        self._progress_shown = False

    def progress(self, path: str, permission: Permission, verdict: Verdict) -> None:
        self._stream.write(self._scrub(f"\r\x1b[2K{path}: {permission} {verdict}"))
        self._stream.flush()
        self._progress_shown = True

    def line(self, message: str) -> None:
        self.clear()
        self._stream.write(self._scrub(f"connector-validator: {one_line(message)}") + "\n")
        self._stream.flush()

    def exchange(self, path: str, exchange: Exchange) -> None:
        """One `-v` line: `connector.yaml: GET /me → 200 from HOST (request id R, attempt 1, 12 ms)`."""
        self.line(f"{path}: {exchange.describe()}")

    def clear(self) -> None:
        if self._progress_shown:
            self._stream.write("\r\x1b[2K")
            self._stream.flush()
            self._progress_shown = False


def _still_waiting(status: StatusLines, timeout: float) -> Callable[[str, float], None]:
    def say(host: str, after: float) -> None:
        status.line(still_waiting(host, after, timeout))

    return say
