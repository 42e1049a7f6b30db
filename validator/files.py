"""The one place that writes files and standard output: reports, the GitHub step summary.

A report replaces its target atomically: it is written to a temporary file in the target's folder, synced
to disk, then renamed over the target. A full disk, a signal or a crash mid-write therefore leaves either
the complete new report or the previous file untouched, never a truncated one; the temporary file is
removed on the way out. A symlink target is followed: the file it points to is replaced, the link kept.

Targets that are not regular files (a FIFO, a device, a socket, a directory) are refused before anything
is opened: opening a FIFO blocks until a reader appears, and a device is not a report.

Files a command creates for the user (`init`'s connector.yaml, `login --save`'s token file) are written with
`create_new` (exclusive: whatever is already at the path, a link included, is refused and left alone) or
`replace_entry` (the directory entry itself is replaced atomically: a link is replaced, never followed),
each with the mode the caller names.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from validator.errors import ExitCode, ValidatorError

# Text that cannot be encoded (a lone surrogate that slipped through) is written as its `\udXXX` escape
# rather than costing the report: in JSON and XML that escape is still valid text.
_ENCODE_ERRORS = "backslashreplace"
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class TargetError(ValidatorError):
    """A file cannot be written (or appended to); str() is one line that names the file."""

    exit_code = ExitCode.REPORT_NOT_WRITTEN


class TargetExists(TargetError):
    """Something is already at the path a new file was to be created at (a symbolic link included)."""


class StdoutError(ValidatorError):
    """Standard output could not be written: its reader went away, it is closed, or its device is full.

    Deliberately not an OSError: the command-line framework turns an EPIPE OSError into a silent exit 1.
    """

    def __init__(self, number: int | None, reason: str) -> None:
        self.errno = number
        self.reason = reason
        if number == errno.EPIPE:
            message = "standard output was closed by its reader (broken pipe); output stopped"
        elif number == errno.EBADF:
            message = "standard output is closed; nothing could be printed"
        else:
            message = f"cannot write to standard output: {reason}"
        super().__init__(message, ExitCode.BROKEN_PIPE if number == errno.EPIPE else ExitCode.STDOUT_FAILED)

    @classmethod
    def of(cls, error: OSError) -> StdoutError:
        return cls(error.errno, error.strerror or type(error).__name__)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "it is a directory"
    if stat.S_ISFIFO(mode):
        return "it is a named pipe (FIFO), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "it is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "it is a socket, not a regular file"
    return "it is not a regular file"


def resolved_target(path: Path) -> Path:
    """The file a write to `path` changes: symlinks followed (a dangling one names the file to create)."""
    return Path(os.path.realpath(path))


def overwrites_input(target: Path, inputs: Iterable[Path]) -> Path | None:
    """The input of the run that a write to `target` would replace (symlinks and hard links followed)."""
    resolved = resolved_target(target)
    for source in inputs:
        if resolved_target(source) == resolved:
            return source
        with contextlib.suppress(OSError):
            if os.path.samefile(source, resolved):
                return source
    return None


def check_target(path: Path, *, append: bool = False) -> None:
    """Refuse, without opening anything, a target that is not a regular file or cannot be written.

    `path` may be absent (it will be created, with its missing folders when not appending).
    """
    target = resolved_target(path)
    try:
        status = os.stat(target)
    except FileNotFoundError:
        status = None
    except OSError as error:
        raise TargetError(f"cannot write {path}: {error.strerror or error}") from None
    if status is not None:
        if not stat.S_ISREG(status.st_mode):
            raise TargetError(f"cannot write {path}: {_kind(status.st_mode)}")
        if not os.access(target, os.W_OK):
            raise TargetError(f"cannot write {path}: permission denied")
        if append:
            return
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if append and ancestor != target.parent:
        raise TargetError(f"cannot write {path}: {target.parent} does not exist")
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise TargetError(f"cannot write {path}: {ancestor} is not a writable directory")


def write_atomic(path: Path, text: str) -> None:
    """Replace the file at `path` with `text` (UTF-8), atomically; raise TargetError on any failure.

    The new file keeps the mode of the file it replaces (a new one gets 0666 minus the umask).
    """
    target = resolved_target(path)
    data = text.encode("utf-8", _ENCODE_ERRORS)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        existing = _regular_or_absent(target, path)
    except OSError as error:
        raise TargetError(f"cannot write {path}: {error.strerror or error}") from None
    _replace(target, data, stat.S_IMODE(existing.st_mode) if existing else _default_mode(), shown=path)


def replace_entry(path: Path, text: str, *, mode: int) -> None:
    """Put a new regular file holding `text` (UTF-8) with exactly `mode` at `path`, atomically.

    Unlike `write_atomic`, the directory entry itself is replaced: a symbolic link at `path` is replaced by
    the file, never followed, and the mode is `mode`, not the previous file's. The folder must exist.
    Raise TargetError on any failure; the previous entry is then untouched.
    """
    _replace(path, text.encode("utf-8", _ENCODE_ERRORS), mode, shown=path)


def create_new(path: Path, text: str, *, mode: int = 0o666, exact_mode: bool = False) -> None:
    """Create `path` as a new regular file holding `text` (UTF-8); never replace anything.

    Whatever is already at `path` (a file, a directory, a FIFO, a symbolic link, even a dangling one: it is
    never followed) raises TargetExists and is left alone. The file gets `mode` minus the umask, or exactly
    `mode` with `exact_mode` (a token file is 0600 whatever the umask). Any other failure raises
    TargetError, and a file created but not completely written is removed.
    """
    data = text.encode("utf-8", _ENCODE_ERRORS)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC | _NOFOLLOW, mode)
    except FileExistsError:
        raise TargetExists(f"cannot write {path}: it already exists") from None
    except OSError as error:
        raise TargetError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        try:
            if exact_mode and hasattr(os, "fchmod"):
                os.fchmod(descriptor, mode)
            _write_all(descriptor, data)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(path)  # created by this call (O_EXCL): a partial file is never left behind
        if isinstance(error, OSError):
            raise TargetError(f"cannot write {path}: {error.strerror or error}") from None
        raise
    _sync_folder(path.parent)


def _replace(target: Path, data: bytes, mode: int, *, shown: Path) -> None:
    """Write `data` to a temporary file beside `target`, with exactly `mode`, then rename it over `target`."""
    temporary: str | None = None
    try:
        # The name is chosen before the file exists, so that a signal landing at any point after the file is
        # created finds it in `temporary` and removes it (with mkstemp it could land before the assignment).
        temporary = str(target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC | _NOFOLLOW, 0o600)
        try:
            if hasattr(os, "fchmod"):  # created 0600; the caller decides what it should be
                os.fchmod(descriptor, mode)
            _write_all(descriptor, data)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, target)  # replaces the directory entry; never follows a link
        temporary = None
        _sync_folder(target.parent)
    except OSError as error:
        raise TargetError(f"cannot write {shown}: {error.strerror or error}") from None
    finally:
        if temporary is not None:  # failed or interrupted (a signal): the previous file is untouched
            with contextlib.suppress(OSError):
                os.unlink(temporary)


class StreamedReplacement:
    """A report written as it is produced, replacing its target atomically at the end (`commit`).

    The text goes to a temporary file beside the target (buffered, so that memory stays flat however long
    it grows); `commit` syncs it and renames it over the target, `discard` removes it, and the target is
    untouched until `commit`. Failures raise TargetError naming the target; a failed write is remembered
    and raised again by `commit`, so that the run goes on and the file is reported once.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._target = resolved_target(path)
        self._temporary: str | None = None
        self._error: TargetError | None = None
        self._buffer = bytearray()
        self._descriptor = -1
        try:
            self._target.parent.mkdir(parents=True, exist_ok=True)
            existing = _regular_or_absent(self._target, path)
            self._mode = stat.S_IMODE(existing.st_mode) if existing else _default_mode()
            self._temporary = str(self._target.parent / f".{self._target.name}.{secrets.token_hex(6)}.tmp")
            self._descriptor = os.open(
                self._temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC | _NOFOLLOW, 0o600
            )
        except OSError as error:
            self._temporary = None
            raise TargetError(f"cannot write {path}: {error.strerror or error}") from None

    def write(self, text: str) -> None:
        if self._error is not None or self._temporary is None:
            return
        self._buffer += text.encode("utf-8", _ENCODE_ERRORS)
        if len(self._buffer) >= 64 * 1024:
            self._flush()

    def _flush(self) -> None:
        try:
            _write_all(self._descriptor, bytes(self._buffer))
        except OSError as error:
            self._error = TargetError(f"cannot write {self.path}: {error.strerror or error}")
        self._buffer.clear()

    def commit(self) -> None:
        """Put the file in place of the target; raise TargetError (the target untouched) if it failed."""
        if self._temporary is None:
            return
        try:
            if self._error is None:
                self._flush()
            if self._error is not None:
                raise self._error
            try:
                if hasattr(os, "fchmod"):
                    os.fchmod(self._descriptor, self._mode)
                os.fsync(self._descriptor)
                os.close(self._descriptor)
                self._descriptor = -1
                os.replace(self._temporary, self._target)
                self._temporary = None
                _sync_folder(self._target.parent)
            except OSError as error:
                raise TargetError(f"cannot write {self.path}: {error.strerror or error}") from None
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the temporary file (if not committed); the target stays as it was."""
        if self._descriptor >= 0:
            with contextlib.suppress(OSError):
                os.close(self._descriptor)
            self._descriptor = -1
        if self._temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._temporary)
            self._temporary = None


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def append_regular(path: Path, text: str) -> None:
    """Append `text` to the regular file at `path` (created if absent), never blocking on a FIFO.

    The target is checked before opening and the opened file again (it could have been swapped between).
    """
    check_target(path, append=True)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | _CLOEXEC
    try:
        descriptor = os.open(path, flags, 0o666)
    except OSError as error:
        raise TargetError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise TargetError(f"cannot write {path}: {_kind(mode)}")
        _write_all(descriptor, text.encode("utf-8", _ENCODE_ERRORS))
    except OSError as error:
        raise TargetError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        os.close(descriptor)


def _regular_or_absent(target: Path, shown: Path) -> os.stat_result | None:
    try:
        status = os.stat(target)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(status.st_mode):
        raise TargetError(f"cannot write {shown}: {_kind(status.st_mode)}")
    return status


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; best effort (not every file system lets a folder be opened)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


_PIECE = 4096


def write_stdout(stream: TextIO, text: str) -> None:
    """Write and flush `text`; any failure is a StdoutError."""
    try:
        for start in range(0, len(text), _PIECE):
            stream.write(text[start : start + _PIECE])
        stream.flush()
    except StdoutError:
        raise
    except OSError as error:
        raise StdoutError.of(error) from None


def silence_descriptor(descriptor: int) -> None:
    """Point `descriptor` at /dev/null, so that flushing what is still buffered for it at exit cannot fail
    again (Python would print "Exception ignored ... BrokenPipeError") and no file opened later takes its
    number."""
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_WRONLY)
        if null != descriptor:
            os.dup2(null, descriptor)
            os.close(null)


class GuardedStdout:
    """sys.stdout for the CLI: a failed write or flush raises StdoutError instead of OSError.

    It has no `buffer` attribute on purpose: the CLI framework would then write to the buffer directly.
    """

    def __init__(self, wrapped: TextIO | None) -> None:
        self._wrapped = wrapped
        # Once a write failed, every later one fails the same way: the CLI framework probes streams with
        # empty writes and ignores what they raise, and the descriptor then points at /dev/null.
        self._error = None if wrapped is not None else StdoutError(errno.EBADF, "standard output is closed")

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self._error is not None:
            raise self._error
        if not text:
            return 0
        assert self._wrapped is not None
        try:
            # In pieces smaller than the buffer: given one larger than it, the buffer makes a single raw
            # write and reports how much went out, which the text layer ignores, so a reader that went
            # away mid-write would lose the rest silently instead of raising EPIPE.
            for start in range(0, len(text), _PIECE):
                self._wrapped.write(text[start : start + _PIECE])
            return len(text)
        except OSError as error:
            raise self._failed(error) from None

    def flush(self) -> None:
        if self._error is not None:
            return  # already failed, and said so by the write that failed; flushing at exit stays quiet
        assert self._wrapped is not None
        try:
            self._wrapped.flush()
        except OSError as error:
            raise self._failed(error) from None

    def _failed(self, error: OSError) -> StdoutError:
        self._error = StdoutError.of(error)
        if self._wrapped is not None:
            with contextlib.suppress(OSError, ValueError):
                silence_descriptor(self._wrapped.fileno())
        return self._error

    def isatty(self) -> bool:
        return self._wrapped is not None and self._wrapped.isatty()

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        if self._wrapped is None:
            raise OSError(errno.EBADF, "standard output is closed")
        return self._wrapped.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._wrapped, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str:
        return getattr(self._wrapped, "errors", None) or "replace"

    def __getattr__(self, name: str) -> Any:
        if name == "buffer" or self._wrapped is None:
            raise AttributeError(name)
        return getattr(self._wrapped, name)


class QuietStderr(GuardedStdout):
    """sys.stderr for the CLI: when stderr itself cannot be written there is nobody left to tell."""

    def write(self, text: str) -> int:
        try:
            return super().write(text)
        except StdoutError:
            return len(text)

    def flush(self) -> None:
        with contextlib.suppress(StdoutError):
            super().flush()
