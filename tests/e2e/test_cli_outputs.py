"""Reports survive whatever happens to the run's outputs: a full disk, a closed or full stdout, a reader that
goes away, SIGTERM or Ctrl-C mid-write. Each ends with its own exit code and one line on stderr.

Every case runs the real CLI against the loopback sandbox, with a previous version of every report already
in place: afterwards each report is either that previous file, untouched, or the complete new report.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import (
    CANARY,
    EXAMPLE,
    SIDE_REPORTS,
    check_side_reports,
    clean_env,
    junit_schema,
    report_validator,
    sarif_validator,
    served,
)

pytestmark = pytest.mark.e2e

PREVIOUS = "previous report\n"


@pytest.fixture
def api_url() -> Iterator[str]:
    with served() as sandbox:
        yield sandbox.base_url


def report_options(folder: Path) -> list[str]:
    options = []
    for fmt in SIDE_REPORTS:
        path = folder / f"report.{fmt}"
        path.write_text(PREVIOUS, encoding="utf-8")
        options += ["--report", f"{fmt}={path}"]
    return options


def reports_in(folder: Path) -> dict[str, str]:
    return {fmt: (folder / f"report.{fmt}").read_text(encoding="utf-8") for fmt in SIDE_REPORTS}


def assert_all_new(folder: Path) -> None:
    reports = reports_in(folder)
    check_side_reports(reports)  # complete: JUnit and SARIF against their schemas, JSON against ours
    assert json.loads(reports["json"])["exit_code"] == 0
    assert all(CANARY not in text for text in reports.values())
    assert not list(folder.glob(".*.tmp")), "a temporary file was left behind"


def assert_complete(fmt: str, text: str, reference: str) -> None:
    """`text` is a whole report: schema-valid where the format has a schema, else the reference's text."""
    if fmt == "junit":
        junit_schema().validate(text)
    elif fmt == "sarif":
        sarif_validator().validate(json.loads(text))
    elif fmt == "json":
        report_validator().validate(json.loads(text))
    else:
        assert text == reference, fmt


def command(api_url: str, folder: Path) -> tuple[list[str], dict[str, str]]:
    args = [sys.executable, "-m", "validator", "validate", str(EXAMPLE), *report_options(folder)]
    return args, clean_env({"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": api_url})


def one_error_line(stderr: str, text: str) -> None:
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert stderr.count("\n") == 1 and text in stderr, stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_stdout_on_a_full_device_keeps_every_report(api_url: str, tmp_path: Path) -> None:
    args, env = command(api_url, tmp_path)
    with open("/dev/full", "w") as full:
        run = subprocess.run(args, env=env, stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)

    assert run.returncode == 6
    one_error_line(run.stderr, "connector-validator: error: cannot write to standard output: No space left")
    assert_all_new(tmp_path)


def test_a_closed_stdout_keeps_every_report(api_url: str, tmp_path: Path) -> None:
    args, env = command(api_url, tmp_path)
    closed = ["sh", "-c", 'exec "$@" >&-', "sh", *args]  # descriptor 1 closed, as `cmd >&-` does
    run = subprocess.run(closed, env=env, stderr=subprocess.PIPE, text=True, timeout=60)

    assert run.returncode == 6
    one_error_line(run.stderr, "connector-validator: error: standard output is closed")
    assert_all_new(tmp_path)  # and no report took descriptor 1 and got the text report written into it


def test_a_reader_that_went_away_is_a_broken_pipe_not_a_missing_permission(
    api_url: str, tmp_path: Path
) -> None:
    args, env = command(api_url, tmp_path)
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    process.stdout.close()  # `| head -c0`: the reader is gone before anything is printed
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 141  # 128 + SIGPIPE, as a shell reports it; never 1
    one_error_line(stderr, "standard output was closed by its reader (broken pipe)")
    assert_all_new(tmp_path)


def test_a_reader_that_stops_after_one_byte_of_a_long_output(tmp_path: Path) -> None:
    # `lint many-files | head -c1` with more output than a pipe holds: the rest must fail with EPIPE, which
    # Python's text layer silently drops for writes larger than its buffer.
    invalid = sorted((EXAMPLE.parent / "tests" / "data" / "specs" / "invalid").glob("*.yaml"))
    args = [sys.executable, "-m", "validator", "lint", *map(str, invalid * 8)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env({}))
    assert process.stdout is not None and process.stderr is not None
    assert os.read(process.stdout.fileno(), 1)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    one_error_line(stderr, "broken pipe")


def test_a_full_disk_while_writing_reports_keeps_the_previous_ones(api_url: str, tmp_path: Path) -> None:
    # A file-size limit makes every write past 4 KiB fail with EFBIG, as a full disk fails with ENOSPC.
    args, env = command(api_url, tmp_path)
    limited = [
        sys.executable,
        "-c",
        "import os, resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096)); os.execv(sys.argv[1], sys.argv[1:])",
        *args,
    ]
    run = subprocess.run(limited, env=env, capture_output=True, text=True, timeout=60)

    assert run.returncode == 5, run.stderr
    assert "Result: PASS" in run.stdout  # the report still reaches stdout
    reports = reports_in(tmp_path)
    too_big = [fmt for fmt, text in reports.items() if text == PREVIOUS]
    assert too_big, "no report was over the limit: the test proves nothing"
    for fmt, text in reports.items():
        if fmt not in too_big:
            assert len(text.encode()) <= 4096
    lines = run.stderr.splitlines()
    assert len(lines) == len(too_big) and all("File too large" in line for line in lines), run.stderr
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_step_summary_that_is_a_fifo_is_refused_before_any_request(tmp_path: Path) -> None:
    fifo = tmp_path / "summary"
    os.mkfifo(fifo)
    with served() as sandbox:
        env = clean_env(
            {
                "INTERCOM_ACCESS_TOKEN": CANARY,
                "INTERCOM_API_URL": sandbox.base_url,
                "GITHUB_STEP_SUMMARY": str(fifo),
            }
        )
        args = [sys.executable, "-m", "validator", "validate", str(EXAMPLE), "--format", "github"]
        run = subprocess.run(args, env=env, capture_output=True, text=True, timeout=20)  # used to hang

        assert run.returncode == 2
        one_error_line(run.stderr, f"GITHUB_STEP_SUMMARY: cannot write {fifo}: it is a named pipe (FIFO)")
        assert sandbox.paths_sent() == []


@pytest.mark.parametrize(
    ("signum", "code", "word"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")]
)
def test_a_signal_while_reports_are_written_never_truncates_one(
    api_url: str, tmp_path: Path, signum: int, code: int, word: str
) -> None:
    """The signal is sent the moment a report's temporary file appears, i.e. in the middle of writing."""
    reference_folder = tmp_path / "reference"
    reference_folder.mkdir()
    args, env = command(api_url, reference_folder)
    assert subprocess.run(args, env=env, capture_output=True, timeout=60).returncode == 0
    reference = reports_in(reference_folder)
    caught_mid_write = 0
    for _ in range(3):
        args, env = command(api_url, tmp_path)
        process = subprocess.Popen(
            args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            if any(name.endswith(".tmp") for name in os.listdir(tmp_path)):
                process.send_signal(signum)
                caught_mid_write += 1
                break
        _, stderr = process.communicate(timeout=30)
        reports = reports_in(tmp_path)
        assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"
        if process.returncode == 0:  # finished before the signal could land
            assert_all_new(tmp_path)
            continue
        assert process.returncode == code, stderr
        one_error_line(stderr, f"connector-validator: {word}")
        for fmt, text in reports.items():
            if text != PREVIOUS:
                assert_complete(fmt, text, reference[fmt])
    assert caught_mid_write, "the signal never landed during a write"
