"""Run `python -m validator ARGS` with the first write to every file under $SLOW_WRITE_FOLDER held up.

    SLOW_WRITE_FOLDER=/some/dir SLOW_WRITE_PAUSE=0.3 python tests/e2e/slow_writes.py validate ...

The first `write()` on each file opened for writing in that folder writes half of its data, flushes, sleeps
SLOW_WRITE_PAUSE seconds, then writes the rest. A report write that takes microseconds then takes a
visible while, so that a test can send a signal *during* it: a file written in place is then seen
truncated, a file written to a temporary name and renamed is not. Only `open()` is wrapped (`io.open`,
`builtins.open`, which `pathlib`, `os.fdopen` and `tempfile` go through); nothing else changes.
"""

from __future__ import annotations

import builtins
import io
import os
import runpy
import sys
import time
from typing import Any

FOLDER = os.path.realpath(os.environ["SLOW_WRITE_FOLDER"])
PAUSE = float(os.environ.get("SLOW_WRITE_PAUSE", "0.3"))
_open = io.open


class _SlowFirstWrite:
    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._slowed = False

    def write(self, data: Any) -> int:
        if self._slowed or len(data) < 2:
            return int(self._stream.write(data))
        self._slowed = True
        half = len(data) // 2
        self._stream.write(data[:half])
        self._stream.flush()
        time.sleep(PAUSE)
        self._stream.write(data[half:])
        return len(data)

    def __enter__(self) -> _SlowFirstWrite:
        self._stream.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._stream.__exit__(*exc)

    def __iter__(self) -> Any:
        return iter(self._stream)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _where(file: Any) -> str | None:
    if isinstance(file, int):
        try:
            return os.readlink(f"/proc/self/fd/{file}")
        except OSError:
            return None
    if isinstance(file, str | bytes | os.PathLike):
        return os.path.realpath(os.fsdecode(file))
    return None


def _slow_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
    stream = _open(file, mode, *args, **kwargs)
    where = _where(file)
    writing = any(flag in mode for flag in "wax+")
    if writing and where is not None and os.path.dirname(where) == FOLDER:
        return _SlowFirstWrite(stream)
    return stream


io.open = builtins.open = _slow_open
sys.argv = ["validator", *sys.argv[1:]]
runpy.run_module("validator", run_name="__main__", alter_sys=True)
