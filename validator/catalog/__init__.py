"""The probe catalog: Intercom knowledge as data (`intercom.yaml`), loaded into typed values.

The catalog is validated against `catalog.schema.json` on load, so a malformed entry fails loudly at start
instead of producing a wrong verdict later.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from validator.model import Access, AuthMode, DataType, Permission, Region
from validator.report import Strength, Verdict

_HERE = Path(__file__).parent


class CatalogError(Exception):
    """The catalog file itself is broken: a bug in this tool, not in the user's input."""


@dataclass(frozen=True)
class AnswerRule:
    """How to read one kind of answer: status, optional error codes, message and body type."""

    status: int
    verdict: Verdict
    codes: tuple[str, ...] = ()
    message_contains: str | None = None
    body_type: str | None = None
    strength: Strength | None = None
    note: str | None = None


@dataclass(frozen=True)
class Probe:
    method: str
    path: str
    why_safe: str
    answers: tuple[AnswerRule, ...]
    query: Mapping[str, str] | None = None
    body: Mapping[str, Any] | None = None
    labels: tuple[str, ...] = ()  # overrides the permission's labels for this probe when set

    @property
    def target(self) -> str:
        """The request line as shown to users, with its query string."""
        if not self.query:
            return self.path
        return self.path + "?" + "&".join(f"{key}={value}" for key, value in self.query.items())


@dataclass(frozen=True)
class IdentityCheck:
    """The request that tells whether the token is valid and which workspace it belongs to."""

    method: str
    path: str
    body_type: str  # of the 200 that proves the token valid
    rejected_status: int  # in Intercom's error envelope: the token itself is refused
    why_safe: str


@dataclass(frozen=True)
class PermissionProbes:
    permission: Permission
    labels: tuple[str, ...]
    probes: tuple[Probe, ...]


@dataclass(frozen=True)
class Remediation:
    where: str
    after_change: Mapping[AuthMode, str]
    missing: str
    plan_restricted: str
    inconclusive: str
    unverifiable: str


@dataclass(frozen=True)
class Catalog:
    hosts: Mapping[Region, str]
    identity: IdentityCheck
    common_answers: tuple[AnswerRule, ...]
    permissions: Mapping[Permission, PermissionProbes]
    remediation: Remediation

    def probes_for(self, permission: Permission) -> PermissionProbes | None:
        return self.permissions.get(permission)

    def all_probes(self) -> list[Probe]:
        return [probe for entry in self.permissions.values() for probe in entry.probes]


def _answer(raw: Mapping[str, Any]) -> AnswerRule:
    return AnswerRule(
        status=raw["status"],
        verdict=Verdict(raw["verdict"]),
        codes=tuple(raw.get("codes", ())),
        message_contains=raw.get("message_contains"),
        body_type=raw.get("body_type"),
        strength=Strength(raw["strength"]) if "strength" in raw else None,
        note=raw.get("note"),
    )


def _probe(raw: Mapping[str, Any], impossible_ids: Mapping[str, str]) -> Probe:
    return Probe(
        method=raw["method"],
        path=raw["path"].format_map(impossible_ids),
        why_safe=raw["why_safe"],
        answers=tuple(_answer(answer) for answer in raw["answers"]),
        query=raw.get("query"),
        body=raw.get("body"),
        labels=tuple(raw.get("labels", ())),
    )


def parse_catalog(raw: Mapping[str, Any]) -> Catalog:
    """Validate a catalog document against its schema and turn it into typed values."""
    import jsonschema

    schema = json.loads((_HERE / "catalog.schema.json").read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(raw), key=lambda e: e.json_path)
    if errors:
        raise CatalogError(f"probe catalog invalid at {errors[0].json_path}: {errors[0].message}")
    impossible_ids = raw["impossible_ids"]
    permissions: dict[Permission, PermissionProbes] = {}
    for data_type, levels in raw["permissions"].items():
        for access, entry in levels.items():
            permission = Permission(DataType(data_type), Access(access))
            permissions[permission] = PermissionProbes(
                permission=permission,
                labels=tuple(entry["labels"]),
                probes=tuple(_probe(probe, impossible_ids) for probe in entry["probes"]),
            )
    remediation = raw["remediation"]
    return Catalog(
        hosts={Region(region): url for region, url in raw["hosts"].items()},
        identity=IdentityCheck(**raw["identity"]),
        common_answers=tuple(_answer(answer) for answer in raw["common_answers"]),
        permissions=permissions,
        remediation=Remediation(
            where=remediation["where"],
            after_change={AuthMode(mode): text for mode, text in remediation["after_change"].items()},
            missing=remediation["missing"],
            plan_restricted=remediation["plan_restricted"],
            inconclusive=remediation["inconclusive"],
            unverifiable=remediation["unverifiable"],
        ),
    )


@cache
def load_catalog(path: Path = _HERE / "intercom.yaml") -> Catalog:
    """The Intercom probe catalog shipped with the tool."""
    with path.open(encoding="utf-8") as stream:
        raw = yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return parse_catalog(raw)
