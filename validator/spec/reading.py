"""Reading a connector.yaml from disk: a regular file only (never a FIFO or a device), and never too big.

Decoding the bytes (UTF-8, a BOM) is `yamlnodes`' job; this module only gets them off the disk.
"""

from __future__ import annotations

import stat
from pathlib import Path

from validator.spec.problems import ROOT, START, SpecError, SpecFileError, SpecProblem

MAX_SPEC_BYTES = 1024 * 1024  # a real connector.yaml is a few hundred bytes; anything this big is a mistake


def read_bytes(path: Path) -> bytes:
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            # Checked before opening: opening a FIFO blocks until a writer appears, and a device never ends.
            raise SpecFileError(str(path), _not_regular(status.st_mode))
        if status.st_size > MAX_SPEC_BYTES:  # checked before reading, so a huge file costs nothing
            raise SpecError([oversize_problem(str(path), status.st_size)])
        with path.open("rb") as stream:
            return stream.read(MAX_SPEC_BYTES + 1)
    except FileNotFoundError:
        raise SpecFileError(str(path), "no such file") from None
    except IsADirectoryError:
        raise SpecFileError(str(path), "it is a directory") from None
    except OSError as error:
        raise SpecFileError(str(path), error.strerror or type(error).__name__) from None


def _not_regular(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "it is a directory"
    kinds = {
        stat.S_ISFIFO: "a named pipe (FIFO)",
        stat.S_ISCHR: "a device",
        stat.S_ISBLK: "a device",
        stat.S_ISSOCK: "a socket",
    }
    kind = next((name for test, name in kinds.items() if test(mode)), "something else")
    return f"it is {kind}, not a regular file; give the path of a connector.yaml file"


def oversize_problem(file: str, size: int) -> SpecProblem:
    message = (
        f"the file is {size} bytes, over the {MAX_SPEC_BYTES // 1024 // 1024} MiB limit for a "
        "connector.yaml; is this the right file?"
    )
    return SpecProblem(file, START.line, START.col, message, ROOT)
