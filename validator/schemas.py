"""Where the published JSON Schemas live, in a source checkout and in an installed wheel.

The wheel carries `schemas/` as `validator/_schemas/` (see pyproject's force-include); a source checkout has
them at `<repo>/schemas/`. Both are tried, the wheel's place first.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent
_SEARCH_DIRS = (_PACKAGE_DIR / "_schemas", _PACKAGE_DIR.parent / "schemas")


class SchemaNotFoundError(FileNotFoundError):
    """The package is installed without its schemas: a packaging bug, not a user error."""


def schema_path(name: str) -> Path:
    """The file of the schema called `name` (e.g. `connector.schema.json`)."""
    if Path(name).name != name:
        raise ValueError(f"schema name must be a bare file name, got {name!r}")
    for directory in _SEARCH_DIRS:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    searched = ", ".join(str(directory) for directory in _SEARCH_DIRS)
    raise SchemaNotFoundError(f"schema {name} not found in {searched}")


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """The parsed schema `name`, read from disk once per process. Callers must not mutate it."""
    loaded: dict[str, Any] = json.loads(schema_path(name).read_text(encoding="utf-8"))
    return loaded
