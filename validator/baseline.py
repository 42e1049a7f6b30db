"""`validate --baseline PATH`: an earlier JSON report, read for what a later run compares.

Only what drift needs is read (each connector's path, name and every probed permission's verdict), and
leniently: a report of another version of the tool, with fields this one does not know, still compares.
What cannot be a report (unreadable, not JSON, another document) is a `BaselineError`: one line, exit 7.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from validator.errors import ExitCode, ValidatorError
from validator.model import Access, DataType, Permission, Verdict

MAX_BASELINE_BYTES = 64 * 1024 * 1024


class BaselineError(ValidatorError):
    """The --baseline file cannot be used: one line, its own exit code, no report."""

    exit_code = ExitCode.BASELINE_UNUSABLE


@dataclass(frozen=True)
class BaselineConnector:
    """What an earlier report found for one connector: each probed permission's verdict."""

    path: str
    name: str | None
    verdicts: Mapping[Permission, Verdict]


@dataclass(frozen=True)
class Baseline:
    """An earlier JSON report of `validate`."""

    source: str  # the file, as given
    connectors: tuple[BaselineConnector, ...]

    def find(self, path: str, name: str | None) -> BaselineConnector | None:
        """The same connector in the baseline: by file path, else by name when only one has it."""
        for connector in self.connectors:
            if connector.path == path:
                return connector
        named = [connector for connector in self.connectors if name is not None and connector.name == name]
        return named[0] if len(named) == 1 else None


def load_baseline(path: Path) -> Baseline:
    shown = str(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise BaselineError(f"--baseline {shown}: not a regular file")
        if info.st_size > MAX_BASELINE_BYTES:
            raise BaselineError(f"--baseline {shown}: larger than {MAX_BASELINE_BYTES // (1024 * 1024)} MiB")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BaselineError(f"--baseline {shown}: no such file") from None
    except OSError as error:
        raise BaselineError(f"--baseline {shown}: cannot read: {error.strerror or 'error'}") from None
    return parse_baseline(raw, shown)


def parse_baseline(raw: bytes, source: str) -> Baseline:
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested deeper than json goes
        raise BaselineError(
            f"--baseline {source}: not JSON; give the report of an earlier `validate --format json`"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("connectors"), list):
        raise BaselineError(f"--baseline {source}: not a connector-validator JSON report (no connectors)")
    if document.get("format_version") != 1:
        raise BaselineError(
            f"--baseline {source}: report format_version {str(document.get('format_version'))[:20]!r}; "
            "this connector-validator reads format_version 1"
        )
    connectors = []
    for index, connector in enumerate(document["connectors"]):
        connectors.append(_connector(connector, f"--baseline {source}: connectors[{index}]"))
    return Baseline(source, tuple(connectors))


def _connector(raw: Any, where: str) -> BaselineConnector:
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
        raise BaselineError(f"{where} is not a connector of a report (no path)")
    permissions = raw.get("permissions", [])
    if not isinstance(permissions, list):
        raise BaselineError(f"{where}.permissions is not a list")
    verdicts: dict[Permission, Verdict] = {}
    for entry in permissions:
        if not isinstance(entry, dict):
            raise BaselineError(f"{where}.permissions holds something other than a permission")
        try:
            permission = Permission(DataType(str(entry.get("data_type"))), Access(str(entry.get("access"))))
            verdict = Verdict(str(entry.get("status")))
        except ValueError:
            continue  # a data type or verdict of another version of the tool: not comparable, not an error
        verdicts[permission] = verdict
    name = raw.get("name")
    return BaselineConnector(raw["path"], name if isinstance(name, str) else None, verdicts)
