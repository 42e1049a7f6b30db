"""validator.files: atomic report writes, target checks, the step-summary append, stdout failures."""

from __future__ import annotations

import errno
import io
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from validator.errors import ExitCode
from validator.files import (
    GuardedStdout,
    StdoutError,
    TargetError,
    TargetExists,
    append_regular,
    check_target,
    create_new,
    replace_entry,
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


# --- files a command creates for the user: create_new (exclusive) and replace_entry (the entry itself) -----


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.parametrize(
    ("mask", "exact", "expected"),
    [(0o000, True, 0o600), (0o077, True, 0o600), (0o022, False, 0o644), (0o077, False, 0o600)],
)
def test_a_new_file_has_the_mode_asked_exactly_or_minus_the_umask(
    tmp_path: Path, mask: int, exact: bool, expected: int
) -> None:
    target = tmp_path / "new"
    with _umask(mask):
        create_new(target, "text\n", mode=0o600 if exact else 0o644, exact_mode=exact)

    assert target.read_text(encoding="utf-8") == "text\n"
    assert stat.S_IMODE(target.stat().st_mode) == expected
    assert os.listdir(tmp_path) == ["new"]


@pytest.mark.parametrize("existing", ["file", "directory", "fifo", "link-to-file", "dangling-link"])
def test_a_new_file_refuses_whatever_is_already_there_and_leaves_it(tmp_path: Path, existing: str) -> None:
    target, elsewhere = tmp_path / "new", tmp_path / "elsewhere"
    if existing == "file":
        target.write_text("mine")
    elif existing == "directory":
        target.mkdir()
    elif existing == "fifo":
        os.mkfifo(target)
    elif existing == "link-to-file":
        elsewhere.write_text("mine")
        target.symlink_to(elsewhere)
    else:
        target.symlink_to(elsewhere)

    with pytest.raises(TargetExists) as caught:
        create_new(target, "theirs", mode=0o600, exact_mode=True)

    assert str(caught.value) == f"cannot write {target}: it already exists"
    if existing == "file":
        assert target.read_text() == "mine"
    if existing.endswith("link"):
        assert target.is_symlink()
    if existing == "link-to-file":
        assert elsewhere.read_text() == "mine"
    if existing == "dangling-link":
        assert not elsewhere.exists()  # the link was not followed


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_a_new_file_cut_short_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    target = tmp_path / "connector.yaml"
    real_write = os.write
    calls = []

    def write_then_fail(descriptor: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) > 1:
            raise failure
        return real_write(descriptor, bytes(data)[:10])

    monkeypatch.setattr("validator.files.os.write", write_then_fail)
    expected = TargetError if isinstance(failure, OSError) else KeyboardInterrupt
    with pytest.raises(expected) as caught:
        create_new(target, "x" * 100_000, mode=0o644)

    assert os.listdir(tmp_path) == []
    if expected is TargetError:
        assert str(caught.value) == f"cannot write {target}: No space left on device"


def test_a_new_file_in_a_missing_folder_is_refused_in_one_line(tmp_path: Path) -> None:
    target = tmp_path / "absent" / "new"
    with pytest.raises(TargetError) as caught:
        create_new(target, "x")
    assert not isinstance(caught.value, TargetExists)
    assert str(caught.value) == f"cannot write {target}: No such file or directory"


def test_replacing_an_entry_replaces_a_link_itself_with_exactly_the_mode_asked(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_text("theirs")
    real.chmod(0o644)
    link = tmp_path / "token"
    link.symlink_to(real)

    with _umask(0o000):
        replace_entry(link, "mine\n", mode=0o600)

    assert not link.is_symlink()
    assert link.read_text() == "mine\n"
    assert stat.S_IMODE(link.stat().st_mode) == 0o600
    assert real.read_text() == "theirs"  # never followed
    assert sorted(os.listdir(tmp_path)) == ["real", "token"]


def test_replacing_an_entry_sets_the_mode_asked_not_the_previous_one(tmp_path: Path) -> None:
    target = tmp_path / "connector.yaml"
    target.write_text("old")
    target.chmod(0o600)

    with _umask(0o077):
        replace_entry(target, "new", mode=0o644)

    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_replacing_an_entry_cut_short_leaves_the_previous_one_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "token"
    target.write_text("previous")

    def fail(descriptor: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("validator.files.os.write", fail)
    with pytest.raises(TargetError) as caught:
        replace_entry(target, "new", mode=0o600)

    assert str(caught.value) == f"cannot write {target}: No space left on device"
    assert target.read_text() == "previous"
    assert os.listdir(tmp_path) == ["token"]


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
