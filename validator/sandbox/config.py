"""Sandbox configuration: frozen dataclasses, loaded from YAML or from the same structure in Python.

Every check names the place that is wrong (`file:line: tokens[2].status: ...`) and never echoes a token
value or client secret, so a config error is safe to paste into a bug report.
"""

from __future__ import annotations

import functools
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn

import yaml

from validator.model import DataType
from validator.sandbox.permissions import ALL_LABELS, ROUTES_BY_KEY, Label

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default.yaml")
MAX_CONFIG_BYTES = 4 * 1024 * 1024

OAUTH_ROUTE_KEYS = ("GET /oauth", "POST /auth/eagle/token")
MAX_FAULT_MS = 600_000  # ten minutes: longer than any client waits, and small enough for every sleep/timer


class SandboxConfigError(Exception):
    """A sandbox configuration that cannot be used; the message is one line, with file:line when known."""


class Region(StrEnum):
    """Regions as `/me` reports them in `app.region` (only US is documented; EU and AU are [INF])."""

    US = "US"
    EU = "EU"
    AU = "AU"


class MissingPermissionStyle(StrEnum):
    """How an endpoint answers a valid token that lacks the permission (API-NOTES §3)."""

    TOKEN_UNAUTHORIZED = "token_unauthorized"  # 401, most endpoints
    FORBIDDEN = "forbidden"  # 403 naming the scope, newer endpoints


class TokenStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"  # 401 token_revoked
    INVALID = "invalid"  # treated like an unknown token: 401 unauthorized


class Consent(StrEnum):
    APPROVE = "approve"
    DENY = "deny"


class FaultKind(StrEnum):
    LATENCY = "latency"  # answer normally after `ms`
    STATUS = "status"  # answer `status` (5xx) with a server_error body
    RATE_LIMIT = "rate_limit"  # answer 429 rate_limit_exceeded regardless of the budget
    DROP = "drop"  # close the connection without answering
    TRUNCATE = "truncate"  # announce the full Content-Length, send half the body, close
    HTML = "html"  # a proxy's HTML error page (status defaults to 502)
    SLOW_BODY = "slow_body"  # trickle the body over `ms`


@dataclass(frozen=True)
class AdminConfig:
    id: str
    name: str
    email: str


@dataclass(frozen=True)
class WorkspaceConfig:
    id_code: str
    name: str
    region: Region = Region.US
    admins: tuple[AdminConfig, ...] = ()
    plan_restricted: frozenset[DataType] = frozenset()
    # "default" plus route keys ("GET /conversations") → style.
    missing_permission_style: Mapping[str, MissingPermissionStyle] = field(default_factory=dict)
    timezone: str = "America/Los_Angeles"
    created_at: int = 1734537243

    def style_for(self, route_key: str) -> MissingPermissionStyle:
        """The missing-permission answer style configured for `route_key`."""
        styles = self.missing_permission_style
        return styles.get(route_key) or styles.get("default") or MissingPermissionStyle.TOKEN_UNAUTHORIZED

    def admin(self, admin_id: str) -> AdminConfig | None:
        return next((a for a in self.admins if a.id == admin_id), None)


@dataclass(frozen=True)
class TokenConfig:
    """A token the sandbox knows. `value` is kept out of repr so it cannot leak through logs or asserts."""

    value: str = field(repr=False)
    workspace: str
    admin: str
    permissions: frozenset[Label]
    status: TokenStatus = TokenStatus.ACTIVE
    name: str = ""  # a human handle for listings ("full access"), never the value
    # Route keys refused as if a permission were missing although the labels grant them. One Developer Hub
    # label covers several data types (people, companies and data attribute reads share one); tests use this
    # to take away exactly one of them.
    withheld_routes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OAuthClientConfig:
    client_id: str
    client_secret: str = field(repr=False)
    redirect_urls: tuple[str, ...]
    workspace: str
    admin: str
    permissions: frozenset[Label]
    consent: Consent = Consent.APPROVE


@dataclass(frozen=True)
class FaultConfig:
    """An injected fault for one route key or for every route ("*").

    `times` limits it to the first N matching requests (None: every one), which keeps tests deterministic.
    """

    route: str
    kind: FaultKind
    ms: int = 0
    status: int = 503
    times: int | None = None
    # rate_limit only: announce the reset this many seconds from now instead of at the window's end, so
    # a client that honours X-RateLimit-Reset retries quickly in tests.
    reset_in_s: int | None = None


@dataclass(frozen=True)
class RateLimitConfig:
    """Requests allowed per workspace ("app") per window. Intercom enforces 10-second windows (§6)."""

    limit: int = 1000
    window_seconds: int = 10


@dataclass(frozen=True)
class SandboxConfig:
    workspaces: tuple[WorkspaceConfig, ...]
    tokens: tuple[TokenConfig, ...] = ()
    oauth_clients: tuple[OAuthClientConfig, ...] = ()
    faults: tuple[FaultConfig, ...] = ()
    rate_limit: RateLimitConfig = RateLimitConfig()
    default_api_version: str = "2.15"
    # Versions the sandbox answers for: the ones its contract tests cover. Others get 400.
    api_versions: tuple[str, ...] = ("2.15", "2.16")

    def workspace(self, id_code: str) -> WorkspaceConfig | None:
        return next((w for w in self.workspaces if w.id_code == id_code), None)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<config>") -> SandboxConfig:
        """Build and validate a config from plain data (parsed YAML or a literal dict)."""
        return _Reader(source).sandbox(data)


def load_config(path: Path | str) -> SandboxConfig:
    """Load and validate a YAML config file; errors carry `file:line`."""
    path = Path(path)
    try:
        # Checked before opening: opening a FIFO blocks until a writer appears, and a device never ends.
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise SandboxConfigError(f"{path}: cannot read sandbox config: it is {kind}")
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise SandboxConfigError(
                f"{path}: the sandbox config is over {MAX_CONFIG_BYTES // 1024} KiB; is this the right file?"
            )
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SandboxConfigError(f"{path}: cannot read sandbox config: {reason}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SandboxConfigError(
            f"{path}:{line}: the sandbox config is not UTF-8 text; save it as UTF-8"
        ) from None
    try:
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SandboxConfigError(f"{where}: {problem}") from None
    except RecursionError:
        raise SandboxConfigError(f"{path}: the sandbox config is nested too deeply") from None
    except ValueError as exc:
        # A value YAML recognised but cannot build: the date 2020-13-45, an integer of 5000 digits.
        reason = " ".join(str(exc).split())
        raise SandboxConfigError(f"{path}: a value in the sandbox config cannot be read: {reason}") from None
    if not isinstance(data, Mapping):
        raise SandboxConfigError(f"{path}:1: the sandbox config must be a mapping")
    return SandboxConfig.from_dict(data, source=str(path))


@functools.cache
def default_config() -> SandboxConfig:
    """The configuration shipped in `validator/sandbox/default.yaml` (immutable, so loaded once)."""
    return load_config(DEFAULT_CONFIG_PATH)


# --- YAML with line numbers -----------------------------------------------------------------------------


class _LineDict(dict[Any, Any]):
    line: int = 0


class _LineList(list[Any]):
    line: int = 0


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader whose mappings and sequences remember the line they start on."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> _LineDict:
    result = _LineDict(loader.construct_mapping(node, deep=True))
    result.line = node.start_mark.line + 1
    return result


def _construct_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> _LineList:
    result = _LineList(loader.construct_sequence(node, deep=True))
    result.line = node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


# --- validation -----------------------------------------------------------------------------------------


class _Reader:
    """Turns plain data into config dataclasses, failing on the first problem with its location."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: object, path: str, message: str) -> NoReturn:
        line = getattr(node, "line", 0)
        where = f"{self.source}:{line}" if line else self.source
        raise SandboxConfigError(f"{where}: {path}: {message}")

    def mapping(self, node: object, path: str, allowed: Sequence[str], required: Sequence[str] = ()) -> Any:
        if not isinstance(node, Mapping):
            self.fail(node, path, f"expected a mapping, got {type(node).__name__}")
        unknown = sorted(str(k) for k in node if k not in allowed)
        if unknown:
            self.fail(node, path, f"unknown key {unknown[0]!r} (allowed: {', '.join(allowed)})")
        missing = [k for k in required if k not in node]
        if missing:
            self.fail(node, path, f"missing required key {missing[0]!r}")
        return node

    def sequence(self, node: object, path: str) -> Sequence[Any]:
        if node is None:
            return ()
        if not isinstance(node, list | tuple):
            self.fail(node, path, f"expected a list, got {type(node).__name__}")
        return node

    def string(self, parent: object, value: object, path: str) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # YAML reads ids like 991267459 and versions like 2.16 as numbers
        if not isinstance(value, str) or not value.strip():
            self.fail(parent, path, "expected a non-empty string")
        return value

    def integer(
        self, parent: object, value: object, path: str, minimum: int = 0, maximum: int | None = None
    ) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.fail(parent, path, f"expected an integer >= {minimum}")
        if maximum is not None and value > maximum:
            self.fail(parent, path, f"expected an integer <= {maximum}")
        return value

    def choice(self, parent: object, value: object, path: str, enum: type[StrEnum]) -> Any:
        options = [member.value for member in enum]
        text = str(value)
        if text not in options:
            self.fail(parent, path, f"{value!r} is not one of {', '.join(options)}")
        return enum(text)

    def labels(self, parent: object, value: object, path: str) -> frozenset[Label]:
        if value == "all":
            return ALL_LABELS
        if value is None or value == "none":
            return frozenset()
        granted: set[Label] = set()
        for i, item in enumerate(self.sequence(value, path)):
            if item not in ALL_LABELS:
                known = "; ".join(sorted(ALL_LABELS))
                self.fail(value, f"{path}[{i}]", f"{item!r} is not a Developer Hub label (known: {known})")
            granted.add(Label(item))
        return frozenset(granted)

    def sandbox(self, data: Mapping[str, Any]) -> SandboxConfig:
        keys = (
            "workspaces",
            "tokens",
            "oauth_clients",
            "faults",
            "rate_limit",
            "default_api_version",
            "api_versions",
        )
        root = self.mapping(data, "$", keys, required=("workspaces",))
        workspaces = tuple(
            self.workspace(w, f"workspaces[{i}]")
            for i, w in enumerate(self.sequence(root["workspaces"], "workspaces"))
        )
        if not workspaces:
            self.fail(root, "workspaces", "at least one workspace is needed")
        seen_ids = [w.id_code for w in workspaces]
        for w in workspaces:
            if seen_ids.count(w.id_code) > 1:
                self.fail(root["workspaces"], "workspaces", f"duplicate id_code {w.id_code!r}")
        by_id = {w.id_code: w for w in workspaces}

        tokens = tuple(
            self.token(t, f"tokens[{i}]", by_id)
            for i, t in enumerate(self.sequence(root.get("tokens"), "tokens"))
        )
        values = [t.value for t in tokens]
        for i, value in enumerate(values):
            if values.index(value) != i:
                # Never print the value itself.
                self.fail(
                    root["tokens"], f"tokens[{i}].value", f"same value as tokens[{values.index(value)}]"
                )

        clients = tuple(
            self.oauth_client(c, f"oauth_clients[{i}]", by_id)
            for i, c in enumerate(self.sequence(root.get("oauth_clients"), "oauth_clients"))
        )
        faults = tuple(
            self.fault(f, f"faults[{i}]") for i, f in enumerate(self.sequence(root.get("faults"), "faults"))
        )
        rate_limit = RateLimitConfig()
        if root.get("rate_limit") is not None:
            node = self.mapping(root["rate_limit"], "rate_limit", ("limit", "window_seconds"))
            rate_limit = RateLimitConfig(
                limit=self.integer(node, node.get("limit", 1000), "rate_limit.limit", minimum=1),
                window_seconds=self.integer(
                    node, node.get("window_seconds", 10), "rate_limit.window_seconds", minimum=1
                ),
            )
        versions = tuple(
            self.string(root, v, f"api_versions[{i}]")
            for i, v in enumerate(self.sequence(root.get("api_versions", ["2.15", "2.16"]), "api_versions"))
        )
        default_version = self.string(root, root.get("default_api_version", "2.15"), "default_api_version")
        if default_version not in versions:
            self.fail(root, "default_api_version", f"{default_version!r} is not in api_versions")
        return SandboxConfig(
            workspaces=workspaces,
            tokens=tokens,
            oauth_clients=clients,
            faults=faults,
            rate_limit=rate_limit,
            default_api_version=default_version,
            api_versions=versions,
        )

    def workspace(self, node: object, path: str) -> WorkspaceConfig:
        keys = (
            "id_code",
            "name",
            "region",
            "admins",
            "plan_restricted",
            "missing_permission_style",
            "timezone",
        )
        w = self.mapping(node, path, keys, required=("id_code", "name", "admins"))
        admins = []
        for i, a in enumerate(self.sequence(w["admins"], f"{path}.admins")):
            a_path = f"{path}.admins[{i}]"
            a = self.mapping(a, a_path, ("id", "name", "email"), required=("id", "name", "email"))
            admins.append(
                AdminConfig(
                    id=self.string(a, a["id"], f"{a_path}.id"),
                    name=self.string(a, a["name"], f"{a_path}.name"),
                    email=self.string(a, a["email"], f"{a_path}.email"),
                )
            )
        if not admins:
            self.fail(w, f"{path}.admins", "at least one admin is needed (tokens act for an admin)")
        restricted = frozenset(
            self.choice(w, item, f"{path}.plan_restricted[{i}]", DataType)
            for i, item in enumerate(self.sequence(w.get("plan_restricted"), f"{path}.plan_restricted"))
        )
        styles: dict[str, MissingPermissionStyle] = {}
        style_node = w.get("missing_permission_style") or {}
        if not isinstance(style_node, Mapping):
            self.fail(w, f"{path}.missing_permission_style", "expected a mapping of route → style")
        for key, value in style_node.items():
            key_path = f"{path}.missing_permission_style[{key!r}]"
            if key != "default" and (key not in ROUTES_BY_KEY or ROUTES_BY_KEY[key].required is None):
                self.fail(style_node, key_path, "expected 'default' or a route that needs a permission")
            styles[key] = self.choice(style_node, value, key_path, MissingPermissionStyle)
        return WorkspaceConfig(
            id_code=self.string(w, w["id_code"], f"{path}.id_code"),
            name=self.string(w, w["name"], f"{path}.name"),
            region=self.choice(w, str(w.get("region", "US")).upper(), f"{path}.region", Region),
            admins=tuple(admins),
            plan_restricted=restricted,
            missing_permission_style=styles,
            timezone=self.string(w, w.get("timezone", "America/Los_Angeles"), f"{path}.timezone"),
        )

    def _owner(
        self, node: Any, path: str, workspaces: Mapping[str, WorkspaceConfig]
    ) -> tuple[str, str, frozenset[Label]]:
        workspace_id = self.string(node, node["workspace"], f"{path}.workspace")
        workspace = workspaces.get(workspace_id)
        if workspace is None:
            self.fail(node, f"{path}.workspace", f"no workspace with id_code {workspace_id!r}")
        admin_id = self.string(node, node.get("admin", workspace.admins[0].id), f"{path}.admin")
        if workspace.admin(admin_id) is None:
            self.fail(node, f"{path}.admin", f"no admin {admin_id!r} in workspace {workspace_id!r}")
        return (
            workspace_id,
            admin_id,
            self.labels(node, node.get("permissions", "all"), f"{path}.permissions"),
        )

    def token(self, node: object, path: str, workspaces: Mapping[str, WorkspaceConfig]) -> TokenConfig:
        keys = ("value", "workspace", "admin", "permissions", "status", "name", "withheld_routes")
        t = self.mapping(node, path, keys, required=("value", "workspace"))
        value = t["value"]
        if not isinstance(value, str) or not value or any(c.isspace() for c in value):
            self.fail(t, f"{path}.value", "expected a non-empty string without spaces")
        workspace_id, admin_id, permissions = self._owner(t, path, workspaces)
        return TokenConfig(
            value=value,
            workspace=workspace_id,
            admin=admin_id,
            permissions=permissions,
            status=self.choice(t, t.get("status", "active"), f"{path}.status", TokenStatus),
            name=str(t.get("name", "")),
            withheld_routes=self.route_keys(t, t.get("withheld_routes", []), f"{path}.withheld_routes"),
        )

    def route_keys(self, parent: object, value: object, path: str) -> frozenset[str]:
        keys = frozenset(
            self.string(parent, item, f"{path}[{i}]") for i, item in enumerate(self.sequence(value, path))
        )
        for key in sorted(keys - set(ROUTES_BY_KEY)):
            self.fail(parent, path, f"{key!r} is not a sandbox route such as 'GET /contacts'")
        return keys

    def oauth_client(
        self, node: object, path: str, workspaces: Mapping[str, WorkspaceConfig]
    ) -> OAuthClientConfig:
        keys = ("client_id", "client_secret", "redirect_urls", "workspace", "admin", "permissions", "consent")
        c = self.mapping(
            node, path, keys, required=("client_id", "client_secret", "redirect_urls", "workspace")
        )
        urls = tuple(
            self.string(c, u, f"{path}.redirect_urls[{i}]")
            for i, u in enumerate(self.sequence(c["redirect_urls"], f"{path}.redirect_urls"))
        )
        if not urls:
            self.fail(c, f"{path}.redirect_urls", "at least one redirect URL is needed")
        workspace_id, admin_id, permissions = self._owner(c, path, workspaces)
        return OAuthClientConfig(
            client_id=self.string(c, c["client_id"], f"{path}.client_id"),
            client_secret=self.string(c, c["client_secret"], f"{path}.client_secret"),
            redirect_urls=urls,
            workspace=workspace_id,
            admin=admin_id,
            permissions=permissions,
            consent=self.choice(c, c.get("consent", "approve"), f"{path}.consent", Consent),
        )

    def fault(self, node: object, path: str) -> FaultConfig:
        keys = ("route", "kind", "ms", "status", "times", "reset_in_s")
        f = self.mapping(node, path, keys, required=("route", "kind"))
        route = self.string(f, f["route"], f"{path}.route")
        if route != "*" and route not in ROUTES_BY_KEY and route not in OAUTH_ROUTE_KEYS:
            self.fail(f, f"{path}.route", f"{route!r} is not '*' or a sandbox route such as 'GET /contacts'")
        kind = self.choice(f, f["kind"], f"{path}.kind", FaultKind)
        default_status = 502 if kind is FaultKind.HTML else 503
        status = self.integer(f, f.get("status", default_status), f"{path}.status", minimum=100)
        if kind in (FaultKind.STATUS, FaultKind.HTML) and not 500 <= status <= 599:
            self.fail(f, f"{path}.status", "a status fault must use a 5xx status")
        times, reset_in_s = f.get("times"), f.get("reset_in_s")
        if reset_in_s is not None and kind is not FaultKind.RATE_LIMIT:
            self.fail(f, f"{path}.reset_in_s", "only a rate_limit fault has a reset")
        return FaultConfig(
            route=route,
            kind=kind,
            ms=self.integer(
                f, f.get("ms", 500 if kind is FaultKind.SLOW_BODY else 0), f"{path}.ms", maximum=MAX_FAULT_MS
            ),
            status=status,
            times=None if times is None else self.integer(f, times, f"{path}.times", minimum=1),
            reset_in_s=None if reset_in_s is None else self.integer(f, reset_in_s, f"{path}.reset_in_s"),
        )
