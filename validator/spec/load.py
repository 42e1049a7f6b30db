"""connector.yaml → ConnectorSpec, or every problem in the file with its line:col and JSON path.

The order of checks: bytes (size: `reading`), YAML (`yamlnodes`: encoding, syntax, duplicates, aliases),
secrets (`secret_scan`: they must never be echoed), then structure against `schemas/connector.schema.json`
(`explain`). Once the file is known to be valid, the spec is built with the position of every value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, cast

from validator.model import (
    Access,
    Auth,
    AuthMode,
    ConnectorSpec,
    DataType,
    Permission,
    Position,
    Region,
    Workspace,
)
from validator.spec.explain import required_keys, schema_problems
from validator.spec.policy import build_policy, normalize_dates, policy_problems
from validator.spec.problems import ROOT, START, Found, SpecError, SpecProblem, public_position, under_any
from validator.spec.reading import MAX_SPEC_BYTES, oversize_problem, read_bytes
from validator.spec.secret_scan import redact, secret_problems
from validator.spec.yamlnodes import Document, parse_document


def load_spec(path: Path, name: str | None = None) -> ConnectorSpec:
    """Read and check the connector.yaml at `path`, reported as `name` (default: the path as given).

    Raises SpecFileError when the file cannot be read and SpecError, carrying every problem sorted by
    position, when it is not a valid connector.yaml.
    """
    return parse_spec(read_bytes(path), name or str(path))


def parse_spec(raw: bytes, file: str) -> ConnectorSpec:
    """Check connector.yaml content `raw`; `file` is the name to report problems under."""
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError([oversize_problem(file, len(raw))])
    document = parse_document(raw)
    problems = list(_problems(document))
    if problems:
        raise SpecError(_finish(problems, file))
    return _build_spec(document, file)


def _problems(document: Document) -> Iterator[Found]:
    yield from (Found(p.position, p.message, p.json_path) for p in document.problems)
    if document.root is None:
        if not document.problems:
            yield Found(START, "the file is empty; a connector.yaml needs at least " + required_keys(), ROOT)
        return
    secret_paths: set[str] = set()
    yield from secret_problems(document, secret_paths)  # even in a file that is wrong in every other way
    if not isinstance(document.data, dict):
        message = f"the top level must be a mapping of keys ({required_keys()}), not {document.root.kind}"
        yield Found(document.root.position, message, ROOT)
        return
    quiet = document.reported | secret_paths
    normalize_dates(document)
    structural = [found for found in schema_problems(document) if not under_any(found.json_path, quiet)]
    yield from structural
    if not structural and not document.problems and not secret_paths:
        yield from policy_problems(document)  # what `policy` means, once its shape is right


def _finish(found: Iterable[Found], file: str) -> list[SpecProblem]:
    unique = {
        SpecProblem(file, f.position.line, f.position.col, redact(f.message), redact(f.json_path))
        for f in found
    }
    return sorted(unique)


def _build_spec(document: Document, file: str) -> ConnectorSpec:
    data = cast(dict[str, Any], document.data)
    workspace = cast(dict[str, Any], data["workspace"])
    auth = cast(dict[str, Any], data["auth"])
    # In file order, `$` first, so that the mapping reads like the file.
    located_values = sorted(document.values.values(), key=lambda located: (located.position, located.path))
    positions = {located.path: public_position(located) for located in located_values}
    permissions: list[Permission] = []
    permission_positions: dict[Permission, Position] = {}
    for data_type, levels in cast(dict[str, list[str]], data["permissions"]).items():
        for index, level in enumerate(levels):
            permission = Permission(DataType(data_type), Access(level))
            permissions.append(permission)
            permission_positions[permission] = positions[f"$.permissions.{data_type}[{index}]"]
    return ConnectorSpec(
        path=file,
        name=data["name"],
        workspace=Workspace(
            id=workspace["id"], name=workspace.get("name"), region=Region(workspace.get("region", Region.US))
        ),
        auth=Auth(
            mode=AuthMode(auth["mode"]),
            **{key: auth[key] for key in ("token_env", "client_id_env", "client_secret_env") if key in auth},
        ),
        permissions=tuple(permissions),
        api_version=data.get("api_version"),
        version=int(data["version"]),
        platform=data["platform"],
        positions=positions,
        permission_positions=permission_positions,
        policy=build_policy(data, positions),
    )
