"""Who may call what: bearer tokens (API-NOTES §3) and the permission and plan checks of a route (§4, §5)."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from validator.sandbox.config import MissingPermissionStyle, TokenConfig, TokenStatus, WorkspaceConfig
from validator.sandbox.permissions import SCOPE_IDS, Route
from validator.sandbox.wire import Answer, SandboxRequest, error


class Tokens:
    """The tokens the sandbox knows: the configured ones and those issued through OAuth. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._issued: list[TokenConfig] = []
        self._configured: tuple[str, ...] = ()
        self._by_value: dict[str, TokenConfig] = {}
        self._generation = 0

    def install(self, configured: Iterable[TokenConfig]) -> None:
        """Replace the configured tokens; issued ones stay valid."""
        with self._lock:
            tokens = tuple(configured)
            self._configured = tuple(t.value for t in tokens)
            self._by_value = {t.value: t for t in (*tokens, *self._issued)}
            self._generation += 1

    def issue(self, token: TokenConfig) -> None:
        with self._lock:
            self._issued.append(token)
            self._by_value[token.value] = token
            self._generation += 1

    def secret_groups(self) -> tuple[int, tuple[str, ...], tuple[str, ...]]:
        """(generation, configured values, issued values): the generation changes whenever either does."""
        with self._lock:
            return self._generation, self._configured, tuple(t.value for t in self._issued)

    def active(self) -> list[TokenConfig]:
        with self._lock:
            return [t for t in self._by_value.values() if t.status == TokenStatus.ACTIVE]

    def workspace_of(self, request: SandboxRequest) -> str | None:
        """The workspace (id_code) of the request's bearer token, whatever its status; None if unknown."""
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        token = self._by_value.get(value.strip()) if scheme.lower() == "bearer" else None
        return token.workspace if token is not None else None

    def authenticate(self, request: SandboxRequest) -> TokenConfig | Answer:
        """The token of the request's `Authorization: Bearer`, or the 401 Intercom answers instead."""
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        token = self._by_value.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None or token.status == TokenStatus.INVALID:
            return error(401, "unauthorized", "Access Token Invalid")
        if token.status == TokenStatus.REVOKED:
            return error(401, "token_revoked", "Token revoked")
        return token


def refusal(route: Route, token: TokenConfig, workspace: WorkspaceConfig) -> Answer | None:
    """Why `token` may not call `route` (a missing permission, then the plan), or None when it may."""
    if not route.permitted(token.permissions) or route.key in token.withheld_routes:
        if workspace.style_for(route.key) == MissingPermissionStyle.FORBIDDEN and route.required is not None:
            scope = SCOPE_IDS[route.required]
            return error(
                403, "forbidden", f"You do not have the required scope ({scope}) to access this resource"
            )
        return error(401, "token_unauthorized", "Not authorized to access resource")
    if route.data_type is not None and route.data_type in workspace.plan_restricted:
        return error(403, "api_plan_restricted", "Active subscription needed.")
    return None
