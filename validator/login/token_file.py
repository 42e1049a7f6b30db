"""The token file of `login --save`: mode 0600, a new file or an atomic replacement, never through a link."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from validator.errors import ExitCode
from validator.login.protocol import LoginError


def check_save_target(path: Path, *, replace: bool) -> None:
    """Refuse a --save target before the flow starts, so that an authorization is never wasted."""
    if path.is_symlink():
        raise LoginError(
            f"--save {path} is a symbolic link; refusing to write a token through it", ExitCode.USAGE
        )
    if path.exists():
        if not path.is_file():
            raise LoginError(f"--save {path} exists and is not a regular file", ExitCode.USAGE)
        if not replace:
            raise LoginError(f"--save {path} already exists; pass --force to replace it", ExitCode.USAGE)
    if not path.parent.is_dir():
        raise LoginError(f"--save {path}: the directory {path.parent} does not exist", ExitCode.USAGE)


def save_token(path: Path, token: str, *, replace: bool) -> None:
    """Write the token to `path` with mode 0600: a new file, or an atomic replacement of a regular file."""
    check_save_target(path, replace=replace)
    data = (token + "\n").encode("utf-8")
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    try:
        if not path.exists():
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | nofollow, 0o600)
            _write_private(descriptor, data)
            return
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            _write_private(descriptor, data)
            os.replace(temporary, path)  # replaces the directory entry; never follows a link
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except FileExistsError:
        raise LoginError(
            f"--save {path} appeared while logging in; nothing was written", ExitCode.USAGE
        ) from None
    except OSError as error:
        raise LoginError(
            f"cannot write {path}: {error.strerror or type(error).__name__}", ExitCode.USAGE
        ) from None


def _write_private(descriptor: int, data: bytes) -> None:
    with os.fdopen(descriptor, "wb") as stream:
        os.fchmod(stream.fileno(), 0o600)  # exactly 0600, whatever the umask
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
