"""Sandbox configuration: frozen dataclasses, loaded from YAML or from the same structure in Python.

`config.schema.json` describes the file; `config_file` reads it and explains schema errors. What the
schema cannot say is checked here, while the dataclasses are built: Developer Hub labels and route keys
(from the sandbox's own route table, `permissions`), references to workspaces and admins, duplicates, the
rules of faults. Every error names the place (`file:line:col: tokens[2].workspace: ...`) and never echoes
a token value or client secret.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from validator.model import DataType
from validator.sandbox.config_file import Places, SandboxConfigError, Step, check_shape, read_file
from validator.sandbox.generate import GenerateConfig, generated
from validator.sandbox.permissions import ALL_LABELS, ROUTES_BY_KEY, Label

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default.yaml")

OAUTH_ROUTE_KEYS = ("GET /oauth", "POST /auth/eagle/token")
MAX_FAULT_MS = 600_000  # ten minutes: longer than any client waits, and small enough for every sleep/timer

__all__ = ["SandboxConfigError"]  # raised here, defined with the file reading in `config_file`


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
    # Only requests whose bearer token belongs to this workspace (id_code); None: every request.
    workspace: str | None = None


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
    default_api_version: str = "2.16"
    # Versions the sandbox answers for: the ones its contract tests cover. Others get 400.
    api_versions: tuple[str, ...] = ("2.15", "2.16")
    # GET /me needs "Read admins", as the old references say (API-NOTES §2); off: it needs nothing.
    me_requires_read_admins: bool = False
    # Route keys answered as if Intercom did not serve them (the route-miss 404, API-NOTES §3).
    absent_routes: frozenset[str] = frozenset()
    # The block the generated workspaces and tokens (already in `workspaces` and `tokens`) came from.
    generate: GenerateConfig | None = None

    def workspace(self, id_code: str) -> WorkspaceConfig | None:
        return self._workspaces_by_id.get(id_code)

    @functools.cached_property
    def _workspaces_by_id(self) -> dict[str, WorkspaceConfig]:
        """Built on first use: a lookup per request must not grow with the number of workspaces."""
        found: dict[str, WorkspaceConfig] = {}
        for w in self.workspaces:
            found.setdefault(w.id_code, w)  # the first one wins, as a search in order would find
        return found

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<config>") -> SandboxConfig:
        """Build and validate a config from plain data (a literal dict); errors name the path, not a line."""
        return _build(data, Places(source))


def load_config(path: Path | str) -> SandboxConfig:
    """Load and validate a YAML config file; errors carry `file:line:col`."""
    data, places = read_file(Path(path))
    return _build(data, places)


@functools.cache
def default_config() -> SandboxConfig:
    """The configuration shipped in `validator/sandbox/default.yaml` (immutable, so loaded once)."""
    return load_config(DEFAULT_CONFIG_PATH)


# --- building: what the schema cannot check -------------------------------------------------------------


def _build(data: Mapping[str, Any], places: Places) -> SandboxConfig:
    check_shape(data, places)
    return _Builder(places).sandbox(data)


def _items(value: object) -> Sequence[Any]:
    """A list the schema allows to be null (null reads as empty)."""
    return value if isinstance(value, list | tuple) else ()


def _text(value: object) -> str:
    """A string the schema has checked; YAML reads ids like 991267459 and versions like 2.16 as numbers."""
    return value if isinstance(value, str) else str(value)


class _Builder:
    """Turns schema-valid data into config dataclasses, failing on the first problem with its place."""

    def __init__(self, places: Places) -> None:
        self.fail = places.fail

    def labels(self, value: object, steps: list[Step]) -> frozenset[Label]:
        if value == "all":
            return ALL_LABELS
        granted: set[Label] = set()
        for i, item in enumerate(_items(value)):
            if not isinstance(item, str) or item not in ALL_LABELS:  # a mapping is not hashable
                known = "; ".join(sorted(ALL_LABELS))
                self.fail([*steps, i], f"{item!r} is not a Developer Hub label (known: {known})")
            granted.add(Label(item))
        return frozenset(granted)

    def sandbox(self, root: Mapping[str, Any]) -> SandboxConfig:
        given = list(_items(root.get("workspaces")))
        given_tokens = list(_items(root.get("tokens")))
        block = root.get("generate")
        generate: GenerateConfig | None = None
        if block is not None:
            generate = GenerateConfig(
                workspaces=block["workspaces"],
                seed=block.get("seed", 12),
                tokens_per_workspace=block.get("tokens_per_workspace", 1),
                label_sets=tuple(
                    tuple(item) if isinstance(item, list) else item
                    for item in block.get("label_sets") or ("all",)
                ),
                regions=tuple(str(region) for region in block.get("regions") or ("US",)),
                id_prefix=str(block.get("id_prefix", "gw")),
            )
            extra_workspaces, extra_tokens = generated(generate)
            given += extra_workspaces
            given_tokens += extra_tokens
        elif "workspaces" not in root:
            self.fail([], "missing required key 'workspaces'")
        workspaces = tuple(self.workspace(w, ["workspaces", i]) for i, w in enumerate(given))
        first_index: dict[str, int] = {}
        for i, w in enumerate(workspaces):
            if first_index.setdefault(w.id_code, i) != i:
                self.fail(["workspaces"], f"duplicate id_code {w.id_code!r}")
        by_id = {w.id_code: w for w in workspaces}

        tokens = tuple(self.token(t, ["tokens", i], by_id) for i, t in enumerate(given_tokens))
        first_index = {}
        for i, t in enumerate(tokens):
            if first_index.setdefault(t.value, i) != i:  # never print the value itself
                self.fail(["tokens", i, "value"], f"same value as tokens[{first_index[t.value]}]")

        clients = tuple(
            self.oauth_client(c, ["oauth_clients", i], by_id)
            for i, c in enumerate(_items(root.get("oauth_clients")))
        )
        faults = tuple(self.fault(f, ["faults", i]) for i, f in enumerate(_items(root.get("faults"))))
        limits = root.get("rate_limit") or {}
        rate_limit = RateLimitConfig(
            limit=limits.get("limit", 1000), window_seconds=limits.get("window_seconds", 10)
        )
        versions = tuple(_text(v) for v in _items(root.get("api_versions", ["2.15", "2.16"])))
        default_version = _text(root.get("default_api_version", "2.16"))
        if default_version not in versions:
            self.fail(["default_api_version"], f"{default_version!r} is not in api_versions")
        return SandboxConfig(
            workspaces=workspaces,
            tokens=tokens,
            oauth_clients=clients,
            faults=faults,
            rate_limit=rate_limit,
            default_api_version=default_version,
            api_versions=versions,
            me_requires_read_admins=bool(root.get("me_requires_read_admins") or False),
            absent_routes=self.route_keys(root.get("absent_routes"), ["absent_routes"]),
            generate=generate,
        )

    def workspace(self, w: Mapping[str, Any], steps: list[Step]) -> WorkspaceConfig:
        admins = tuple(
            AdminConfig(id=_text(a["id"]), name=_text(a["name"]), email=_text(a["email"]))
            for a in w["admins"]
        )
        styles: dict[str, MissingPermissionStyle] = {}
        for key, value in (w.get("missing_permission_style") or {}).items():
            if key != "default" and (key not in ROUTES_BY_KEY or ROUTES_BY_KEY[key].required is None):
                message = "expected 'default' or a route that needs a permission"
                self.fail([*steps, "missing_permission_style", key], message, at_key=True)
            styles[key] = MissingPermissionStyle(value)
        region = str(w.get("region", "US")).upper()
        if region not in set(Region):
            self.fail([*steps, "region"], f"{region!r} is not one of {', '.join(Region)}")
        return WorkspaceConfig(
            id_code=_text(w["id_code"]),
            name=_text(w["name"]),
            region=Region(region),
            admins=admins,
            plan_restricted=frozenset(DataType(item) for item in _items(w.get("plan_restricted"))),
            missing_permission_style=styles,
            timezone=_text(w.get("timezone", "America/Los_Angeles")),
        )

    def _owner(
        self, node: Mapping[str, Any], steps: list[Step], workspaces: Mapping[str, WorkspaceConfig]
    ) -> tuple[str, str, frozenset[Label]]:
        workspace_id = _text(node["workspace"])
        workspace = workspaces.get(workspace_id)
        if workspace is None:
            self.fail([*steps, "workspace"], f"no workspace with id_code {workspace_id!r}")
        admin_id = _text(node.get("admin", workspace.admins[0].id))
        if workspace.admin(admin_id) is None:
            self.fail([*steps, "admin"], f"no admin {admin_id!r} in workspace {workspace_id!r}")
        return workspace_id, admin_id, self.labels(node.get("permissions", "all"), [*steps, "permissions"])

    def token(
        self, t: Mapping[str, Any], steps: list[Step], workspaces: Mapping[str, WorkspaceConfig]
    ) -> TokenConfig:
        workspace_id, admin_id, permissions = self._owner(t, steps, workspaces)
        return TokenConfig(
            value=t["value"],
            workspace=workspace_id,
            admin=admin_id,
            permissions=permissions,
            status=TokenStatus(t.get("status", "active")),
            name=str(t.get("name", "")),
            withheld_routes=self.route_keys(t.get("withheld_routes"), [*steps, "withheld_routes"]),
        )

    def route_keys(self, value: object, steps: list[Step]) -> frozenset[str]:
        keys = frozenset(_text(item) for item in _items(value))
        for key in sorted(keys - set(ROUTES_BY_KEY)):
            self.fail(steps, f"{key!r} is not a sandbox route such as 'GET /contacts'")
        return keys

    def oauth_client(
        self, c: Mapping[str, Any], steps: list[Step], workspaces: Mapping[str, WorkspaceConfig]
    ) -> OAuthClientConfig:
        workspace_id, admin_id, permissions = self._owner(c, steps, workspaces)
        return OAuthClientConfig(
            client_id=_text(c["client_id"]),
            client_secret=_text(c["client_secret"]),
            redirect_urls=tuple(_text(u) for u in c["redirect_urls"]),
            workspace=workspace_id,
            admin=admin_id,
            permissions=permissions,
            consent=Consent(c.get("consent", "approve")),
        )

    def fault(self, f: Mapping[str, Any], steps: list[Step]) -> FaultConfig:
        route = _text(f["route"])
        if route != "*" and route not in ROUTES_BY_KEY and route not in OAUTH_ROUTE_KEYS:
            self.fail([*steps, "route"], f"{route!r} is not '*' or a sandbox route such as 'GET /contacts'")
        kind = FaultKind(f["kind"])
        status = f.get("status", 502 if kind is FaultKind.HTML else 503)
        if kind in (FaultKind.STATUS, FaultKind.HTML) and not 500 <= status <= 599:
            self.fail([*steps, "status"], "a status fault must use a 5xx status")
        reset_in_s = f.get("reset_in_s")
        if reset_in_s is not None and kind is not FaultKind.RATE_LIMIT:
            self.fail([*steps, "reset_in_s"], "only a rate_limit fault has a reset")
        workspace = f.get("workspace")
        return FaultConfig(
            route=route,
            kind=kind,
            ms=f.get("ms", 500 if kind is FaultKind.SLOW_BODY else 0),
            status=status,
            times=f.get("times"),
            reset_in_s=reset_in_s,
            workspace=_text(workspace) if workspace is not None else None,
        )
