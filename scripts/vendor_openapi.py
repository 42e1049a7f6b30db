"""Vendor the parts of Intercom's OpenAPI descriptions that the contract tests need.

Reads `<source>/<version>/api.intercom.io.yaml` (default source: `../shared/intercom/openapi`, relative to
the repository root), keeps only the operations the sandbox serves or the validator may probe, plus every
component they reference (transitively), and the examples of their successful answers (the catalog's body
shapes are checked against them; every other example is dropped), and writes
`tests/contract/openapi/<version>.json` with Intercom's MIT notice beside it. The output is sorted and
stable, so re-running it on the same input changes nothing; `tests/contract/test_vendored_openapi.py`
checks exactly that.

Usage: python scripts/vendor_openapi.py [--source DIR] [--out DIR] [VERSION ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "intercom" / "openapi"
DEFAULT_OUT = REPO_ROOT / "tests" / "contract" / "openapi"
VERSIONS = ("2.15", "2.16")

# (method, path template as Intercom's description spells it). The sandbox's routes, plus the single-record
# reads the validator may probe. GET /counts is absent on purpose: no 2.x description has it.
OPERATIONS: tuple[tuple[str, str], ...] = (
    ("get", "/me"),
    ("get", "/contacts"),
    ("get", "/contacts/{contact_id}"),
    ("put", "/contacts/{contact_id}"),
    ("post", "/contacts/{contact_id}/companies"),
    ("post", "/companies/list"),
    ("post", "/companies"),
    ("put", "/companies/{company_id}"),
    ("get", "/conversations"),
    ("post", "/conversations"),
    ("put", "/conversations/{conversation_id}"),
    ("post", "/conversations/{conversation_id}/parts"),
    ("get", "/admins"),
    ("get", "/admins/{admin_id}"),
    ("put", "/admins/{admin_id}/away"),
    ("get", "/teams"),
    ("get", "/tags"),
    ("post", "/tags"),
    ("get", "/data_attributes"),
    ("post", "/data_attributes"),
    ("put", "/data_attributes/{data_attribute_id}"),
    # the help-desk data (API-NOTES §8)
    ("post", "/tickets/search"),
    ("get", "/ticket_types"),
    ("get", "/ticket_states"),
    ("put", "/tickets/{ticket_id}"),
    ("post", "/tickets/{ticket_id}/linked_conversations"),
    ("get", "/articles"),
    ("put", "/articles/{article_id}"),
    ("post", "/articles/{article_id}/tags"),
    ("get", "/help_center/collections"),
    ("get", "/help_center/help_centers"),
    ("put", "/help_center/collections/{collection_id}"),
    ("get", "/contacts/{contact_id}/notes"),
    ("get", "/companies/{company_id}/notes"),
    ("post", "/contacts/{contact_id}/notes"),
    ("post", "/companies/{company_id}/notes"),
    ("get", "/segments"),
    ("get", "/admins/activity_logs"),
    ("get", "/events"),
    ("post", "/events"),
)

# Operations a version's description does not have (newer routes): skipped there, and only there.
ABSENT_IN: dict[str, frozenset[tuple[str, str]]] = {
    "2.15": frozenset(
        {
            ("post", "/tickets/{ticket_id}/linked_conversations"),
            ("post", "/articles/{article_id}/tags"),
            ("post", "/companies/{company_id}/notes"),
        }
    ),
}

# The schema every error answer is checked against, including answers Intercom documents globally.
ALWAYS_KEPT_SCHEMAS = ("error",)

LICENSE_HEADER = (
    "# Intercom OpenAPI description (trimmed)\n\n"
    "The JSON files in this folder are trimmed copies of Intercom's OpenAPI descriptions\n"
    "(https://github.com/intercom/Intercom-OpenAPI), produced by `scripts/vendor_openapi.py`.\n"
    "They are distributed under Intercom's MIT licence, reproduced here:\n\n"
)


def load_source(source: Path, version: str) -> dict[str, Any]:
    """Load one full description; the files are large, so use the C loader."""
    with (source / version / "api.intercom.io.yaml").open("rb") as f:
        loaded: dict[str, Any] = yaml.load(f, Loader=yaml.CSafeLoader)
    return loaded


def _refs_in(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs_in(item)


def _strip_examples(node: Any) -> Any:
    """Drop `examples` of media types and parameters: large, and nothing checks against them."""
    if isinstance(node, dict):
        return {
            key: _strip_examples(value)
            for key, value in node.items()
            if not (key == "examples" and isinstance(value, dict))
        }
    if isinstance(node, list):
        return [_strip_examples(item) for item in node]
    return node


def _trim_operation(operation: dict[str, Any]) -> dict[str, Any]:
    """The operation without examples, except those of its successful JSON answers: the catalog's body
    shapes (what a granting 2xx must look like) are checked against them."""
    trimmed: dict[str, Any] = _strip_examples(operation)
    for status, response in operation.get("responses", {}).items():
        examples = response.get("content", {}).get("application/json", {}).get("examples")
        if str(status).startswith("2") and isinstance(examples, dict):
            trimmed["responses"][status]["content"]["application/json"]["examples"] = examples
    return trimmed


def trim(full: dict[str, Any], operations: Iterable[tuple[str, str]] = OPERATIONS) -> dict[str, Any]:
    """Keep `operations` and the components they reach through `$ref`, nothing else.

    An operation listed in `ABSENT_IN` for the description's version is skipped, and must be absent.
    """
    paths: dict[str, dict[str, Any]] = {}
    absent = ABSENT_IN.get(str(full["info"]["version"]), frozenset())
    for method, template in operations:
        operation = full["paths"].get(template, {}).get(method)
        if (method, template) in absent:
            if operation is not None:
                raise SystemExit(f"{template} {method.upper()} is in the description; update ABSENT_IN")
            continue
        if operation is None:
            raise SystemExit(f"{template} {method.upper()} is not in the description; update OPERATIONS")
        paths.setdefault(template, {})[method] = _trim_operation(operation)

    components: dict[str, dict[str, Any]] = {}
    pending = [*_refs_in(paths), *(f"#/components/schemas/{name}" for name in ALWAYS_KEPT_SCHEMAS)]
    while pending:
        ref = pending.pop()
        _, _, section, name = ref.split("/", 3)
        if name in components.get(section, {}):
            continue
        target = _strip_examples(full["components"][section][name])
        components.setdefault(section, {})[name] = target
        pending.extend(_refs_in(target))

    return {
        "openapi": full["openapi"],
        "info": {"title": full["info"]["title"], "version": full["info"]["version"]},
        "paths": paths,
        "components": components,
    }


def render(description: dict[str, Any]) -> str:
    """The stable text form written to disk."""
    return json.dumps(description, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def license_text(source: Path) -> str:
    return LICENSE_HEADER + (source / "LICENSE.md").read_text(encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("versions", nargs="*", default=list(VERSIONS))
    args = parser.parse_args(argv)
    source: Path = args.source
    out: Path = args.out
    if not source.is_dir():
        print(f"error: {source} does not exist; pass --source", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    for version in args.versions:
        (out / f"{version}.json").write_text(render(trim(load_source(source, version))), encoding="utf-8")
        print(f"wrote {out / f'{version}.json'}")
    (out / "LICENSE.md").write_text(license_text(source), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
