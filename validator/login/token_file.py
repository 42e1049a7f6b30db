"""The token file of `login --save`: mode 0600, a new file or an atomic replacement, never through a link."""

from __future__ import annotations

from pathlib import Path

from validator import files
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
    text = token + "\n"
    try:
        if not path.exists():
            files.create_new(path, text, mode=0o600, exact_mode=True)  # exactly 0600, whatever the umask
        else:
            files.replace_entry(path, text, mode=0o600)  # a regular file: checked just above
    except files.TargetExists:
        raise LoginError(
            f"--save {path} appeared while logging in; nothing was written", ExitCode.USAGE
        ) from None
    except files.TargetError as error:
        raise LoginError(str(error), ExitCode.USAGE) from None
