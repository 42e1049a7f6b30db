"""validator.files: atomic report writes, target checks, the step-summary append, stdout failures."""

from __future__ import annotations

import errno
import io
import os
import stat
import threading
from pathlib import Path

import pytest

from validator.errors import ExitCode
from validator.files import (
    GuardedStdout,
    StdoutError,
    TargetError,
    append_regular,
    check_target,
    write_atomic,
)


def test_a_report_replaces_the_previous_file_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)

    write_atomic(target, "new → ✓")

    assert target.read_text(encoding="utf-8") == "new → ✓"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["report.json"]


def test_missing_folders_are_created(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a" / "b" / "r.xml", "x")
    assert (tmp_path / "a" / "b" / "r.xml").read_text() == "x"


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_a_write_cut_short_leaves_the_previous_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    target = tmp_path / "report.json"
    target.write_text("previous", encoding="utf-8")
    real_write = os.write
    calls = []

    def write_then_fail(descriptor: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) > 1:
            raise failure
        return real_write(descriptor, bytes(data)[:10])  # a partial write, then the disk fills up

    monkeypatch.setattr("validator.files.os.write", write_then_fail)
    expected = TargetError if isinstance(failure, OSError) else KeyboardInterrupt
    with pytest.raises(expected) as caught:
        write_atomic(target, "x" * 100_000)

    assert target.read_text(encoding="utf-8") == "previous"
    assert os.listdir(tmp_path) == ["report.json"]
    if expected is TargetError:
        assert str(caught.value) == f"cannot write {target}: No space left on device"


def test_a_symlink_target_is_followed_and_the_link_kept(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)

    write_atomic(link, "new")

    assert link.is_symlink() and real.read_text() == "new"


def test_text_that_cannot_be_encoded_is_escaped_not_fatal(tmp_path: Path) -> None:
    write_atomic(tmp_path / "r.json", '{"name": "a\ud800b"}')
    assert (tmp_path / "r.json").read_text() == '{"name": "a\\ud800b"}'


@pytest.mark.parametrize("append", [False, True])
def test_a_fifo_is_refused_without_opening_it(tmp_path: Path, append: bool) -> None:
    fifo = tmp_path / "summary"
    os.mkfifo(fifo)
    with pytest.raises(TargetError, match="it is a named pipe"):
        check_target(fifo, append=append)


def test_appending_to_a_fifo_never_blocks(tmp_path: Path) -> None:
    fifo = tmp_path / "summary"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []
    worker = threading.Thread(
        target=lambda: _capture(outcome, lambda: append_regular(fifo, "x")), daemon=True
    )
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "append_regular blocked on a FIFO"
    assert isinstance(outcome[0], TargetError)


def _capture(outcome: list[BaseException], action: object) -> None:
    try:
        action()  # type: ignore[operator]
    except BaseException as error:
        outcome.append(error)


def test_append_keeps_what_earlier_steps_wrote(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier\n")
    append_regular(summary, "later\n")
    assert summary.read_text() == "earlier\nlater\n"


class _Failing(io.StringIO):
    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number

    def flush(self) -> None:
        raise OSError(self.number, os.strerror(self.number))


@pytest.mark.parametrize(
    ("number", "code", "words"),
    [
        (errno.EPIPE, ExitCode.BROKEN_PIPE, "broken pipe"),
        (errno.ENOSPC, ExitCode.STDOUT_FAILED, "No space left on device"),
        (errno.EBADF, ExitCode.STDOUT_FAILED, "standard output is closed"),
    ],
)
def test_stdout_failures_have_their_own_exit_codes(number: int, code: ExitCode, words: str) -> None:
    guarded = GuardedStdout(_Failing(number))
    with pytest.raises(StdoutError) as caught:
        guarded.write("report")
        guarded.flush()
    assert caught.value.exit_code is code and words in caught.value.message
    with pytest.raises(StdoutError):  # stays failed: a probe that swallowed the first error changes nothing
        guarded.write("more")
    guarded.flush()  # quiet at interpreter exit


def test_a_closed_stdout_fails_every_write() -> None:
    with pytest.raises(StdoutError) as caught:
        GuardedStdout(None).write("x")
    assert caught.value.exit_code is ExitCode.STDOUT_FAILED
