"""The probe catalog: Intercom knowledge as data (`intercom.yaml`), loaded into typed values.

The catalog is validated against `catalog.schema.json` on load, so a malformed entry fails loudly at start
instead of producing a wrong verdict later. Body shapes (JSON Schema fragments) are compiled once, on load.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from validator.model import Access, AuthMode, ConnectorSpec, DataType, Permission, Region, Strength, Verdict

_HERE = Path(__file__).parent


class CatalogError(Exception):
    """The catalog file itself is broken: a bug in this tool, not in the user's input."""


@dataclass(frozen=True)
class BodyShape:
    """The shape Intercom documents for a successful answer's whole body: a JSON Schema fragment."""

    name: str
    schema: Mapping[str, Any] = field(compare=False, repr=False)
    _validator: Any = field(compare=False, repr=False)

    def mismatch(self, body: Any) -> str | None:
        """None when `body` has the shape; otherwise where and how it differs.

        The text is built from the shape's own words (property names it declares, expected types, array
        indexes), never from the body: a hostile server's text, which could echo the token, stays out.
        """
        from jsonschema.exceptions import best_match

        error = best_match(self._validator.iter_errors(body))
        if error is None:
            return None
        return _describe(error)


def _describe(error: Any) -> str:
    # Property names are shown only when the shape declares them (they then appear in the schema path).
    declared = {part for part in error.absolute_schema_path if isinstance(part, str)}
    parts = [str(part) if isinstance(part, int) or part in declared else "?" for part in error.absolute_path]
    where = "/" + "/".join(parts) if parts else "the body"
    keyword, expected = error.validator, error.validator_value
    if keyword == "required" and isinstance(error.instance, dict):
        missing = [name for name in expected if name not in error.instance]
        return f"{where} lacks {missing[0]!r}" if missing else f"{where} lacks a required field"
    if keyword == "type":
        kinds = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{where} is not of type {kinds}"
    if keyword == "const":
        return f"{where} is not {expected!r}"
    return f"{where} does not match the documented shape ({keyword})"


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
    shape: BodyShape | None = None  # the whole body must have it (2xx grants)
    # The answer may also be what Intercom says to a route it does not serve (`RouteMiss`): it counts only
    # when the control request of the probe's method answered otherwise.
    route_miss_possible: bool = False


@dataclass(frozen=True)
class Probe:
    method: str
    path: str
    why_safe: str
    answers: tuple[AnswerRule, ...]
    query: Mapping[str, str] | None = None
    body: Mapping[str, Any] | None = None
    labels: tuple[str, ...] = ()  # overrides the permission's labels for this probe when set
    labels_inferred: bool = False  # which label gates this route is inference (API-NOTES §8)
    versions: tuple[str, ...] = ()  # the Intercom-Versions it is sent with; empty: every version

    def sent_with(self, api_version: str) -> bool:
        return not self.versions or api_version in self.versions

    @property
    def target(self) -> str:
        """The request line as shown to users, with its query string."""
        if not self.query:
            return self.path
        return self.path + "?" + "&".join(f"{key}={value}" for key, value in self.query.items())


@dataclass(frozen=True)
class BodyPath:
    """Where a value sits in an answer's body: the keys of nested objects, written `app.id_code`."""

    keys: tuple[str, ...]

    def __str__(self) -> str:
        return ".".join(self.keys)

    def read(self, body: object) -> object:
        """The value at this path in `body`, or None when an object on the way is missing or not one."""
        value = body
        for key in self.keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value


@dataclass(frozen=True)
class WorkspaceFields:
    """Where the identity check's 200 names the workspace: its id, name and region."""

    id: BodyPath
    name: BodyPath
    region: BodyPath


@dataclass(frozen=True)
class IdentityUnreadable:
    """How a valid token that may not read its own identity is answered, and the labels that would let it."""

    labels: tuple[str, ...]
    answers: tuple[AnswerRule, ...]  # matched like answer rules; their verdict is not used


@dataclass(frozen=True)
class IdentityCheck:
    """The request that tells whether the token is valid and which workspace it belongs to."""

    method: str
    path: str
    body_type: str  # of the 200 that proves the token valid
    rejected_status: int  # in Intercom's error envelope: the token itself is refused
    why_safe: str
    shape: BodyShape  # of that 200, whole
    workspace: WorkspaceFields  # where that 200 names the workspace
    unreadable: IdentityUnreadable  # a valid token refused only this request: the workspace is unverified


@dataclass(frozen=True)
class OAuthEndpoints:
    """The OAuth flow of a public app: the authorize page (not on the API host), the token path on it."""

    authorize_base: str
    authorize_path: str
    token_path: str


@dataclass(frozen=True)
class PermissionProbes:
    permission: Permission
    labels: tuple[str, ...]
    probes: tuple[Probe, ...]
    labels_inferred: bool = False  # which label gates it is inference (API-NOTES §8): these are candidates
    unverifiable_because: str | None = None  # why no safe probe exists (then `probes` is empty)
    proves: str = ""  # what answer proves it, and how strong that proof is, in words (plan, README)
    # True: the probes are alternative proofs of the same labels (one granted suffices unless another says
    # missing); False: every probe must grant.
    alternatives: bool = False


@dataclass(frozen=True)
class ControlRequest:
    """A request to a path no Intercom version serves: its answer is what a route miss looks like."""

    method: str
    path: str
    why_safe: str
    body: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class RouteMiss:
    """What Intercom may answer to a route or method it does not serve (API-NOTES §3), and the controls.

    `statuses` are the answers a route miss can have (404, 405); `codes` and `message` its bare form, which
    some routes also document for a missing object. A control's answer outside `statuses` shows nothing.
    """

    statuses: tuple[int, ...]
    codes: tuple[str, ...]
    message: str
    controls: Mapping[str, ControlRequest]  # by method

    def control_for(self, method: str) -> ControlRequest | None:
        return self.controls.get(method)

    def could_be_route_miss(self, rule: AnswerRule) -> bool:
        """Whether a granting rule would accept the bare route-miss answer, had it no control to compare."""
        if rule.verdict is not Verdict.GRANTED or rule.status not in self.statuses:
            return False
        if rule.codes and not set(rule.codes) & set(self.codes):
            return False
        return rule.message_contains is None or rule.message_contains in self.message


class FindingKind(StrEnum):
    """The kinds of finding (a check that did not pass), as reports name them (SARIF rule ids)."""

    PERMISSION_MISSING = "permission-missing"
    PERMISSION_PLAN_RESTRICTED = "permission-plan-restricted"
    PERMISSION_INCONCLUSIVE = "permission-inconclusive"
    PERMISSION_UNVERIFIABLE = "permission-unverifiable"
    WORKSPACE_MISMATCH = "workspace-mismatch"
    WORKSPACE_UNVERIFIED = "workspace-unverified"
    WORKSPACE_UNCHECKED = "workspace-inconclusive"
    TOKEN_REJECTED = "token-rejected"
    TOKEN_INCONCLUSIVE = "token-inconclusive"
    TOKEN_MISSING = "token-missing"
    CONNECTOR_INVALID = "connector-invalid"
    FORBIDDEN_GRANTED = "permission-forbidden-granted"
    EXCESS_GRANTED = "permission-excess"
    PERMISSION_WAIVED = "permission-waived"
    WAIVER_EXPIRED = "waiver-expired"


@dataclass(frozen=True)
class FindingText:
    """What one kind of finding is called, what it means and what to do about it, as the catalog words it.

    The texts may name the values in `ADVICE_FIELDS` ({where}, {labels}, ...); `validator.advice` fills them.
    """

    title: str
    description: str
    help: str


@dataclass(frozen=True)
class GenericValues:
    """What stands in for one result's values in a text said of every result of its kind (SARIF's rules)."""

    labels: str
    after_change: str  # may name {access_token} and {oauth}: the after_change texts of both modes
    token_env: str
    api_version: str


# The values an advice text may name, each filled by `validator.advice`.
ADVICE_FIELDS = frozenset(
    {
        "where",
        "identity",
        "identity_labels",
        "rejected_status",
        "labels",
        "after_change",
        "token_env",
        "api_version",
    }
)


@dataclass(frozen=True)
class Remediation:
    where: str
    after_change: Mapping[AuthMode, str]
    generic: GenericValues
    findings: Mapping[FindingKind, FindingText]


@dataclass(frozen=True)
class Catalog:
    hosts: Mapping[Region, str]
    identity: IdentityCheck
    common_answers: tuple[AnswerRule, ...]
    permissions: Mapping[Permission, PermissionProbes]
    remediation: Remediation
    default_api_version: str  # the Intercom-Version sent when connector.yaml sets none
    oauth: OAuthEndpoints
    route_miss: RouteMiss
    shapes: Mapping[str, BodyShape] = field(default_factory=dict)
    checked_api_versions: tuple[str, ...] = ()  # the versions every probe was checked against

    def api_version_for(self, spec: ConnectorSpec) -> str:
        """The Intercom-Version to send for `spec`: its own `api_version`, else the catalog's default."""
        return spec.api_version or self.default_api_version

    def is_checked(self, api_version: str) -> bool:
        """Whether the probes were checked against `api_version` (2.17 and Preview are not)."""
        return api_version in self.checked_api_versions

    def probe_version(self, api_version: str) -> str:
        """The checked version whose probes are sent with `api_version`: itself, or else the default."""
        return api_version if self.is_checked(api_version) else self.default_api_version

    def probes_for(self, permission: Permission, api_version: str | None = None) -> PermissionProbes | None:
        """The permission's probes, keeping only those sent with `api_version` when one is given."""
        entry = self.permissions.get(permission)
        if entry is None or api_version is None:
            return entry
        version = self.probe_version(api_version)
        return replace(entry, probes=tuple(probe for probe in entry.probes if probe.sent_with(version)))

    def all_probes(self) -> list[Probe]:
        return [probe for entry in self.permissions.values() for probe in entry.probes]

    def controls_for(
        self, permissions: Sequence[Permission], api_version: str | None = None
    ) -> tuple[ControlRequest, ...]:
        """The route-miss controls the probes of `permissions` need (those sent with `api_version`, when
        given): one per method, in catalog order."""
        methods = {
            probe.method
            for permission in permissions
            if (entry := self.probes_for(permission, api_version)) is not None
            for probe in entry.probes
            if any(rule.route_miss_possible for rule in probe.answers)
        }
        return tuple(control for method, control in self.route_miss.controls.items() if method in methods)


def _shapes(raw: Mapping[str, Any]) -> dict[str, BodyShape]:
    """Compile every shape once; each may refer to the others as {"$ref": "#/shapes/<name>"}."""
    import jsonschema

    shapes: dict[str, BodyShape] = {}
    for name, schema in raw.items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as error:
            raise CatalogError(
                f"probe catalog shape {name!r} is not a usable JSON Schema: {error.message}"
            ) from None
        for ref in _refs_in(schema):
            if ref.removeprefix("#/shapes/") not in raw or not ref.startswith("#/shapes/"):
                raise CatalogError(f"probe catalog shape {name!r} is not a usable JSON Schema: $ref {ref!r}")
        validator = jsonschema.Draft202012Validator({"shapes": raw, "$ref": f"#/shapes/{name}"})
        shapes[name] = BodyShape(name, schema, validator)
    return shapes


def _refs_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs_in(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs_in(item)]
    return []


def _shape_for(raw: Mapping[str, Any], shapes: Mapping[str, BodyShape], where: str) -> BodyShape | None:
    """The shape a rule names, checked to pin the same `type` as the rule's body_type."""
    name = raw.get("shape")
    if name is None:
        return None
    shape = shapes.get(name)
    if shape is None:
        raise CatalogError(f"probe catalog invalid at {where}: no shape named {name!r}")
    pinned = shape.schema.get("properties", {}).get("type", {}).get("const")
    if "type" not in shape.schema.get("required", ()) or pinned != raw.get("body_type"):
        raise CatalogError(
            f"probe catalog invalid at {where}: shape {name!r} must require type {raw.get('body_type')!r}"
        )
    return shape


def _workspace_fields(
    raw: Mapping[str, str], shape: BodyShape, shapes: Mapping[str, BodyShape]
) -> WorkspaceFields:
    """The identity's workspace paths, each checked to be declared by its shape (the id also required)."""
    paths = {name: BodyPath(tuple(text.split("."))) for name, text in raw.items()}
    for name, path in paths.items():
        node: Mapping[str, Any] = shape.schema
        for key in path.keys:
            node = _resolved(node, shapes)
            declared = node.get("properties", {}).get(key)
            if declared is None or (name == "id" and key not in node.get("required", ())):
                must = "require" if declared is not None else "declare"
                raise CatalogError(
                    f"probe catalog invalid at $.identity.workspace.{name}: shape {shape.name!r} must {must} "
                    f"{path}"
                )
            node = declared
    return WorkspaceFields(id=paths["id"], name=paths["name"], region=paths["region"])


def _resolved(node: Mapping[str, Any], shapes: Mapping[str, BodyShape]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.removeprefix("#/shapes/") in shapes:
        return _resolved(shapes[ref.removeprefix("#/shapes/")].schema, shapes)
    return node


def _answer(raw: Mapping[str, Any], shapes: Mapping[str, BodyShape], where: str) -> AnswerRule:
    return AnswerRule(
        status=raw["status"],
        verdict=Verdict(raw["verdict"]),
        codes=tuple(raw.get("codes", ())),
        message_contains=raw.get("message_contains"),
        body_type=raw.get("body_type"),
        strength=Strength(raw["strength"]) if "strength" in raw else None,
        note=raw.get("note"),
        shape=_shape_for(raw, shapes, where),
        route_miss_possible=bool(raw.get("route_miss_possible", False)),
    )


def _probe(
    raw: Mapping[str, Any], impossible_ids: Mapping[str, str], shapes: Mapping[str, BodyShape], where: str
) -> Probe:
    return Probe(
        method=raw["method"],
        path=raw["path"].format_map(impossible_ids),
        why_safe=raw["why_safe"],
        answers=tuple(
            _answer(answer, shapes, f"{where}.answers[{index}]")
            for index, answer in enumerate(raw["answers"])
        ),
        query=raw.get("query"),
        body=raw.get("body"),
        labels=tuple(raw.get("labels", ())),
        labels_inferred=raw.get("labels_inferred", False),
        versions=tuple(raw.get("versions", ())),
    )


def parse_catalog(raw: Mapping[str, Any]) -> Catalog:
    """Validate a catalog document against its schema and turn it into typed values."""
    import jsonschema

    schema = json.loads((_HERE / "catalog.schema.json").read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(raw), key=lambda e: e.json_path)
    if errors:
        raise CatalogError(f"probe catalog invalid at {errors[0].json_path}: {errors[0].message}")
    impossible_ids = raw["impossible_ids"]
    checked = tuple(raw["checked_api_versions"])
    if raw["default_api_version"] not in checked:
        raise CatalogError("probe catalog invalid at $.default_api_version: not one of checked_api_versions")
    shapes = _shapes(raw["shapes"])
    route_miss = _route_miss(raw["route_miss"], impossible_ids)
    permissions: dict[Permission, PermissionProbes] = {}
    for data_type, levels in raw["permissions"].items():
        for access, entry in levels.items():
            permission = Permission(DataType(data_type), Access(access))
            where = f"$.permissions.{data_type}.{access}.probes"
            probes = tuple(
                _probe(probe, impossible_ids, shapes, f"{where}[{index}]")
                for index, probe in enumerate(entry["probes"])
            )
            for index, probe in enumerate(probes):
                _check_route_miss(probe, route_miss, f"{where}[{index}]")
            permissions[permission] = PermissionProbes(
                permission=permission,
                labels=tuple(entry["labels"]),
                probes=probes,
                alternatives=bool(entry.get("alternatives", False)),
                labels_inferred=entry.get("labels_inferred", False),
                unverifiable_because=entry.get("unverifiable_because"),
                proves=" ".join(entry["proves"].split()),
            )
            for index, probe in enumerate(permissions[permission].probes):
                if not set(probe.versions) <= set(checked):
                    raise CatalogError(
                        f"probe catalog invalid at {where}[{index}].versions: not among checked_api_versions"
                    )
    remediation = _remediation(raw["remediation"])
    identity = raw["identity"]
    identity_shape = _shape_for(identity, shapes, "$.identity")
    assert identity_shape is not None  # required by the catalog schema
    return Catalog(
        hosts={Region(region): url for region, url in raw["hosts"].items()},
        identity=IdentityCheck(
            **{
                **identity,
                "shape": identity_shape,
                "workspace": _workspace_fields(identity["workspace"], identity_shape, shapes),
                "unreadable": IdentityUnreadable(
                    labels=tuple(identity["unreadable"]["labels"]),
                    answers=tuple(
                        AnswerRule(
                            status=rule["status"],
                            verdict=Verdict.INCONCLUSIVE,
                            codes=tuple(rule["codes"]),
                            message_contains=rule.get("message_contains"),
                        )
                        for rule in identity["unreadable"]["answers"]
                    ),
                ),
            }
        ),
        common_answers=tuple(
            _answer(answer, shapes, f"$.common_answers[{index}]")
            for index, answer in enumerate(raw["common_answers"])
        ),
        permissions=permissions,
        remediation=remediation,
        default_api_version=raw["default_api_version"],
        oauth=OAuthEndpoints(**raw["oauth"]),
        route_miss=route_miss,
        shapes=shapes,
        checked_api_versions=checked,
    )


def _route_miss(raw: Mapping[str, Any], impossible_ids: Mapping[str, str]) -> RouteMiss:
    controls: dict[str, ControlRequest] = {}
    for index, control in enumerate(raw["controls"]):
        if control["method"] in controls:
            raise CatalogError(
                f"probe catalog invalid at $.route_miss.controls[{index}]: a second {control['method']}"
            )
        controls[control["method"]] = ControlRequest(
            method=control["method"],
            path=control["path"].format_map(impossible_ids),
            why_safe=control["why_safe"],
            body=control.get("body"),
        )
    return RouteMiss(
        statuses=tuple(raw["statuses"]), codes=tuple(raw["codes"]), message=raw["message"], controls=controls
    )


def _check_route_miss(probe: Probe, route_miss: RouteMiss, where: str) -> None:
    """A granting answer a route miss could give must be compared with the control of its method."""
    for index, rule in enumerate(probe.answers):
        at = f"{where}.answers[{index}]"
        if rule.route_miss_possible:
            if rule.verdict is not Verdict.GRANTED:
                raise CatalogError(
                    f"probe catalog invalid at {at}: route_miss_possible only on a granting rule"
                )
            if route_miss.control_for(probe.method) is None:
                raise CatalogError(f"probe catalog invalid at {at}: no route_miss control for {probe.method}")
        elif route_miss.could_be_route_miss(rule):
            raise CatalogError(
                f"probe catalog invalid at {at}: a route miss may answer {rule.status} "
                f"{'/'.join(rule.codes) or 'without a code'}; name a resource-specific code or the route's "
                "own message, or set route_miss_possible: true (API-NOTES §3)"
            )


def _remediation(raw: Mapping[str, Any]) -> Remediation:
    """The advice texts, each checked to name only values that `validator.advice` fills."""
    _check_fields(raw["where"], set(), "$.remediation.where")
    for mode, text in raw["after_change"].items():
        _check_fields(text, {"token_env"}, f"$.remediation.after_change.{mode}")
    generic = raw["generic"]
    for name, text in generic.items():
        allowed = {"access_token", "oauth"} if name == "after_change" else set()
        _check_fields(text, allowed, f"$.remediation.generic.{name}")
    findings: dict[FindingKind, FindingText] = {}
    for kind, texts in raw["findings"].items():
        for name, text in texts.items():
            _check_fields(text, ADVICE_FIELDS, f"$.remediation.findings.{kind}.{name}")
        findings[FindingKind(kind)] = FindingText(texts["title"], texts["description"], texts["help"])
    return Remediation(
        where=raw["where"],
        after_change={AuthMode(mode): text for mode, text in raw["after_change"].items()},
        generic=GenericValues(**generic),
        findings=findings,
    )


def _check_fields(text: str, allowed: set[str] | frozenset[str], where: str) -> None:
    try:
        named = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as error:
        raise CatalogError(f"probe catalog invalid at {where}: {error}") from None
    unknown = sorted(named - allowed)
    if unknown:
        raise CatalogError(f"probe catalog invalid at {where}: names {{{unknown[0]}}}, which nothing fills")


@cache
def load_catalog(path: Path = _HERE / "intercom.yaml") -> Catalog:
    """The Intercom probe catalog shipped with the tool."""
    with path.open(encoding="utf-8") as stream:
        raw = yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return parse_catalog(raw)
