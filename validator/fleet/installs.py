"""The `--installs` input: JSON Lines, one install per line, read as a stream and never echoed.

An install is `{"workspace_id": "…", "token": "…", "region": "us|eu|au" (optional), "label": "…"
(optional)}`. A line that is not one (not UTF-8, not JSON, not an object, a missing or mistyped field, a
token of a shape no Intercom token has) becomes a `Malformed` with its line number and what is wrong, in
words that never repeat the line: it may hold a token.

A file is opened only if its group and others cannot read it (as ssh treats private keys): a file of
tokens readable by others has leaked already, and the run refuses to make it look fine.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from validator.errors import ExitCode, UsageError, ValidatorError
from validator.model import Region
from validator.tokens import MIN_TOKEN_LENGTH, token_problem

MAX_LINE_BYTES = 64 * 1024  # an install is ~150 bytes; a longer line is not one, and is not kept whole
MAX_TEXT = 200  # workspace ids and labels are cut to this for reports
FIELDS = ("workspace_id", "token", "region", "label")
STDIN = "-"


class InstallsExposed(ValidatorError):
    """The installs file is readable by group or others: refused before anything is read or sent."""

    exit_code = ExitCode.INSTALLS_EXPOSED


def fingerprint(token: str) -> str:
    """What identifies a token in reports: the first 8 hex digits of its SHA-256 (not reversible)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:8]


@dataclass(frozen=True)
class Install:
    line: int
    workspace_id: str
    token: str = field(repr=False)
    region: Region | None = None
    label: str | None = None

    @property
    def token_fingerprint(self) -> str:
        return fingerprint(self.token)


@dataclass(frozen=True)
class Malformed:
    """A line that is not an install; `problem` never quotes the line. What could be read safely is kept."""

    line: int
    problem: str
    workspace_id: str | None = None
    label: str | None = None
    token_fingerprint: str | None = None


def open_installs(source: str, stdin: BinaryIO) -> tuple[BinaryIO, int | None]:
    """The stream to read installs from, and its size in bytes when it is a regular file (for progress).

    `-` is standard input. A file must be a regular file (or a pipe, as `<(…)` gives) that only its owner
    can read; otherwise `InstallsExposed` (readable by others) or `UsageError`.
    """
    if source == STDIN:
        if stdin.isatty():
            raise UsageError("--installs - reads the installs from standard input: pipe them in (JSON Lines)")
        return stdin, None
    path = Path(source)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise UsageError(f"cannot read --installs {source}: {error.strerror or error}") from None
    try:
        status = os.fstat(descriptor)
        if stat.S_ISDIR(status.st_mode):
            raise UsageError(f"cannot read --installs {source}: it is a directory")
        if stat.S_ISREG(status.st_mode) and status.st_mode & 0o077:
            raise InstallsExposed(
                f"--installs {source} holds tokens and is open to {_readers(status.st_mode)} "
                f"(mode {stat.S_IMODE(status.st_mode):04o}); run `chmod 600 {source}`, or better, pipe the "
                "installs in with --installs -"
            )
        os.set_blocking(descriptor, True)
        stream = os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
    return stream, status.st_size if stat.S_ISREG(status.st_mode) else None


def _readers(mode: int) -> str:
    group, others = mode & 0o070, mode & 0o007
    if group and others:
        return "its group and others"
    return "others" if others else "its group"


def read_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, the line's bytes or None when it is longer than MAX_LINE_BYTES, bytes consumed)."""
    number = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        consumed = len(raw)
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # skip the rest of the line, a piece at a time
                raw = stream.readline(MAX_LINE_BYTES + 1)
                consumed += len(raw)
            yield number, None, consumed
            continue
        yield number, raw, consumed


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate keys")
    return dict(pairs)


def shown(text: str) -> str:
    """Text from the input made safe to print: control characters replaced, cut to MAX_TEXT."""
    cleaned = "".join(character if character.isprintable() else "?" for character in text)
    return cleaned if len(cleaned) <= MAX_TEXT else cleaned[: MAX_TEXT - 1] + "…"


def parse_line(number: int, raw: bytes | None) -> Install | Malformed | None:
    """The install on one line; None for a blank line (skipped silently, as JSON Lines readers do)."""
    if raw is None:
        return Malformed(number, f"longer than {MAX_LINE_BYTES // 1024} KiB: not an install")
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Malformed(number, "not UTF-8 text")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except RecursionError:
        return Malformed(number, "not JSON (nested too deep)")
    except ValueError as error:
        if str(error) == "duplicate keys":
            return Malformed(number, "a key appears twice in the object")
        column = getattr(error, "colno", None)
        return Malformed(number, "not JSON" + (f" (at column {column})" if column else ""))
    if not isinstance(data, dict):
        return Malformed(number, 'not a JSON object (expected {"workspace_id": …, "token": …})')
    return _install(number, data)


def _install(number: int, data: dict[str, Any]) -> Install | Malformed:
    workspace_id, label, token = data.get("workspace_id"), data.get("label"), data.get("token")
    known = {
        "workspace_id": shown(workspace_id) if isinstance(workspace_id, str) and workspace_id else None,
        "label": shown(label) if isinstance(label, str) else None,
        "token_fingerprint": fingerprint(token) if isinstance(token, str) and token else None,
    }

    def bad(problem: str) -> Malformed:
        # A line that is not an install may have its fields mixed up (a token under workspace_id or label):
        # a value that could be a token, or that holds the line's token, is not repeated.
        def unless_secret(value: Any) -> str | None:
            if not isinstance(value, str) or token_problem(value) is None:
                return None
            if isinstance(token, str) and len(token) >= MIN_TOKEN_LENGTH and token in value:
                return None
            return shown(value) if value else None

        return Malformed(
            number,
            problem,
            workspace_id=unless_secret(workspace_id),
            label=unless_secret(label),
            token_fingerprint=known["token_fingerprint"],
        )

    unknown = [key for key in data if key not in FIELDS]
    if unknown:
        # Key names are not echoed either: a token pasted as a key would otherwise be printed.
        return bad(f"{len(unknown)} unknown key(s) (allowed: {', '.join(FIELDS)})")
    if "workspace_id" not in data:
        return bad("missing workspace_id")
    if not isinstance(workspace_id, str) or not workspace_id.strip():
        return bad("workspace_id is not a non-empty string")
    if (
        not workspace_id.isprintable()
        or len(workspace_id) > MAX_TEXT
        or any(c.isspace() for c in workspace_id)
    ):
        return bad("workspace_id has spaces, control characters or is too long: no Intercom workspace id")
    if "token" not in data:
        return bad("missing token")
    if not isinstance(token, str):
        return bad("token is not a string")
    problem = token_problem(token)
    if problem is not None:
        return bad(f"the token is not usable: {problem}")
    region = data.get("region")
    if region is not None and (not isinstance(region, str) or region not in set(Region)):
        return bad(f"region is not one of {', '.join(Region)}")
    if label is not None and not isinstance(label, str):
        return bad("label is not a string")
    return Install(
        line=number,
        workspace_id=workspace_id,
        token=token,
        region=Region(region) if region is not None else None,
        label=known["label"],
    )
