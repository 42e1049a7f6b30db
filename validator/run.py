"""Glue between the `validate` command and the pipeline: token input, report outputs, scrubbing.

Every byte written here passes through `Scrubber`, so that even a bug elsewhere cannot print a token.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import httpx

from validator.checker import ProgressHook
from validator.formats import Format, render
from validator.intercom import ApiUrlError, RetryPolicy, Timeouts, check_api_url
from validator.model import Permission
from validator.report import ExitCode, Report, Verdict
from validator.tokens import Scrubber, TokenInputError, read_stdin_token
from validator.validate import DEFAULT_CONCURRENCY, Ready, RunOptions, prepare_all, validate


class UsageError(Exception):
    """Bad options: reported in one line, exit code 2."""


@dataclass(frozen=True)
class ValidateRequest:
    paths: Sequence[Path]
    output_format: str = "text"
    output: Path | None = None
    reports: Sequence[str] = ()
    api_url: str | None = None
    token_stdin: bool = False
    concurrency: int = DEFAULT_CONCURRENCY
    timeout: float = 15.0
    retry_budget: float = 30.0


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


def check_targets(paths: Sequence[Path]) -> None:
    """Refuse report files that cannot be written before any request is sent, not after."""
    seen: set[Path] = set()
    for path in paths:
        resolved = path.resolve()
        if resolved in seen:
            raise UsageError(f"{path} is named as the target of two reports")
        seen.add(resolved)
        if path.is_dir():
            raise UsageError(f"cannot write {path}: it is a directory")
        if path.exists() and not path.is_file():
            raise UsageError(f"cannot write {path}: it is not a regular file (a pipe or a device?)")
        ancestor = path.parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
            raise UsageError(f"cannot write {path}: {ancestor} is not a writable directory")
        if path.exists() and not os.access(path, os.W_OK):
            raise UsageError(f"cannot write {path}: permission denied")


def write_file(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


def run_validate(
    request: ValidateRequest,
    *,
    environ: Mapping[str, str] | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
) -> int:
    """Run `validate` end to end and return its exit code; usage errors are printed, not raised."""
    environ = os.environ if environ is None else environ
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        main_format = parse_format(request.output_format)
        extra = parse_reports(request.reports)
        api_url = check_api_url(request.api_url) if request.api_url else None
        token = read_stdin_token(stdin or sys.stdin) if request.token_stdin else None
        check_targets([path for _, path in extra] + ([request.output] if request.output else []))
    except (UsageError, ApiUrlError, TokenInputError) as error:
        stderr.write(f"connector-validator: error: {error}\n")
        return int(ExitCode.USAGE)

    prepared = prepare_all(request.paths, environ, token)
    scrub = Scrubber([item.token for item in prepared if isinstance(item, Ready)])
    options = RunOptions(
        api_url=api_url,
        concurrency=request.concurrency,
        timeouts=Timeouts(read=request.timeout),
        retry=RetryPolicy(
            max_total_wait=request.retry_budget, max_single_wait=min(10.0, request.retry_budget)
        ),
        transport_factory=transport_factory,
        progress=_progress(stderr) if stderr.isatty() else None,
    )
    report = validate(prepared, options)
    if options.progress is not None:
        stderr.write("\r\x1b[2K")
    problems = _emit(report, main_format, request.output, extra, environ, stdout, scrub)
    for problem in problems:
        stderr.write(scrub(f"connector-validator: error: {problem}\n"))
    return int(ExitCode.USAGE) if problems else int(report.exit_code)


def _emit(
    report: Report,
    main_format: Format,
    output: Path | None,
    extra: Sequence[tuple[Format, Path]],
    environ: Mapping[str, str],
    stdout: TextIO,
    scrub: Scrubber,
) -> list[str]:
    """Write every output; stdout first, so that a file that cannot be written never loses the report."""
    files = [*extra, *([(main_format, output)] if output is not None else [])]
    shown = Format.TEXT if output is not None else main_format
    stdout.write(scrub(render(shown, report)))
    stdout.flush()
    problems: list[str] = []
    for fmt, path in files:
        try:
            write_file(path, scrub(render(fmt, report)))
        except UsageError as error:
            problems.append(str(error))
    wants_github = any(fmt is Format.GITHUB for fmt, _ in [(main_format, None), *extra])
    summary = environ.get("GITHUB_STEP_SUMMARY")
    if wants_github and summary:
        from validator.formats.github import step_summary

        try:
            with open(summary, "a", encoding="utf-8") as stream:
                stream.write(scrub(step_summary(report)))
        except OSError as error:
            problems.append(f"cannot append to GITHUB_STEP_SUMMARY: {error.strerror or error}")
    return problems


def _progress(stream: TextIO) -> ProgressHook:
    """One self-overwriting status line on a terminal; never used when stderr is a file or a pipe."""

    def show(path: str, permission: Permission, verdict: Verdict) -> None:
        stream.write(f"\r\x1b[2K{path}: {permission} {verdict}")
        stream.flush()

    return show
