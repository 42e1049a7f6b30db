"""The scope-aware Intercom sandbox: one `handle(request) -> response` shared by every adapter.

The order in which a request is judged (each step is [INF] unless noted; Intercom does not document it):

1. injected faults (a proxy or load balancer in front of Intercom fails before Intercom sees anything);
2. the OAuth endpoints, which take no bearer token (API-NOTES §7);
3. the bearer token: unknown or invalid → 401 `unauthorized`, revoked → 401 `token_revoked` (§3);
4. the rate limit of the token's workspace: 429 `rate_limit_exceeded` (§6); from here on every answer
   carries `X-RateLimit-*` headers, because the credentials were valid;
5. `Accept` (406) and `Intercom-Version` (400 `intercom_version_invalid`, §1);
6. the route: unknown, or listed in `absent_routes` → the route-miss 404 `not_found` "Resource Not Found"
   (§3: Intercom answers 404 to a route or method it does not serve; the body is the bare form [INF]);
   one the requested version does not have (a 2.16-only route under 2.15) → 400 `intercom_version_invalid`
   (§1 [EX][OBS]);
7. the permission (§4): missing → 401 `token_unauthorized` or 403 `forbidden`, as configured (§3). It is
   checked before the body or the id, as Intercom's per-route scope mapping suggests (§5). `GET /me` needs
   none, unless `me_requires_read_admins` makes it need "Read admins" (§2: the old references say so);
8. the plan: 403 `api_plan_restricted` (§3);
9. the endpoint itself (`endpoints`), for a write in three steps:
   a. the object the path names: one that does not exist answers its documented 404 whatever the body
      (§5's table: every write probe that names an impossible id is documented with that 404 [EX]);
   b. the body, against the route's request schema (`bodies`): one the schema refuses (not a JSON object,
      a field of the wrong type, a required field missing; defaults the schema documents filled in first)
      answers 400, `parameter_invalid` unless the route documents another code, on an object that does
      exist too, and nothing is recorded as a mutation. That Intercom validates the body after finding the
      object is [INF] (Rails-style: the record is loaded before its update is built from the params); the
      write probes do not depend on it, since they name impossible ids AND send refused bodies;
   c. the write: one that would succeed answers 200 and is flagged as a mutation in the request log, while
      the data stays unchanged.
   So a token without the permission gets its 401/403 (step 7) for any id and any body, and no body is
   ever read before the permission and the object are known.

Each step lives in its own module (`faults`, `oauth`, `auth`, `limits`, `endpoints`; the request log in
`log`, the wire types in `wire`); this one holds the configuration and applies the steps in that order.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from typing import Any

from validator.sandbox import faults as fault_rules
from validator.sandbox.auth import Tokens, refusal
from validator.sandbox.config import (
    OAUTH_ROUTE_KEYS,
    AdminConfig,
    FaultConfig,
    FaultKind,
    SandboxConfig,
    TokenConfig,
    WorkspaceConfig,
    default_config,
)
from validator.sandbox.endpoints import HANDLERS, Call
from validator.sandbox.faults import Faults
from validator.sandbox.limits import RateLimiter, rate_limited
from validator.sandbox.log import RequestLog, Scrubber, masked_entry
from validator.sandbox.oauth import OAuthServer
from validator.sandbox.permissions import ME_ROUTE_KEY, Label, Route, match_route
from validator.sandbox.wire import Answer, SandboxRequest, SandboxResponse, error, route_miss

# Every Sandbox ever created and still alive, so the test suite can check all of them for mutations.
_REGISTRY: weakref.WeakSet[Sandbox] = weakref.WeakSet()


def live_sandboxes() -> list[Sandbox]:
    """All Sandbox instances that are still referenced somewhere."""
    return list(_REGISTRY)


class Sandbox:
    """Answers like Intercom's REST API for the configured workspaces, tokens and faults.

    Thread-safe: the loopback server calls `handle` from many threads at once, and tests may change the
    configuration of a live sandbox with `replace_config`, `add_fault` or `clear_faults`.
    """

    def __init__(
        self, config: SandboxConfig | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.log = RequestLog()
        self._tokens = Tokens()
        self._oauth = OAuthServer(clock, self._tokens.issue)
        self._limiter = RateLimiter(clock)
        self._scrubber_lock = threading.Lock()
        self._scrubber_key: tuple[int, int] | None = None
        self._scrubber = Scrubber()
        self._install(config or default_config())
        _REGISTRY.add(self)

    # configuration -----------------------------------------------------------------------------------

    def _install(self, config: SandboxConfig) -> None:
        self._config = config
        self._faults = Faults(config.faults)
        self._tokens.install(config.tokens)
        self._oauth.install(config.oauth_clients)

    @property
    def config(self) -> SandboxConfig:
        return self._config

    def replace_config(self, config: SandboxConfig) -> None:
        """Swap the whole configuration; fault counters restart, issued OAuth tokens stay valid."""
        with self._lock:
            self._install(config)

    def update(self, **changes: Any) -> None:
        """Replace some top-level config fields, e.g. `update(rate_limit=RateLimitConfig(limit=5))`."""
        with self._lock:
            self._install(dataclasses.replace(self._config, **changes))

    def add_fault(self, fault: FaultConfig) -> None:
        """Inject one more fault, evaluated after the configured ones."""
        with self._lock:
            self._config = dataclasses.replace(self._config, faults=(*self._config.faults, fault))
            self._faults.add(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._config = dataclasses.replace(self._config, faults=())
            self._faults = Faults()

    def accepted_tokens(self) -> list[TokenConfig]:
        """Configured and OAuth-issued tokens that authenticate (active ones)."""
        return self._tokens.active()

    # the entry point ---------------------------------------------------------------------------------

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Answer one request and record it in the log."""
        matched = match_route(request.method, request.path)
        route_key = matched[0].key if matched else f"{request.method} {request.path}"
        delay_s, fault = self._faults.take(route_key, self._tokens.workspace_of(request))

        answer = fault_rules.replacement(fault)
        if answer is None and fault is not None and fault.kind == FaultKind.RATE_LIMIT:
            authenticated = isinstance(self._tokens.authenticate(request), TokenConfig)
            answer = self._limiter.injected(
                self._config.rate_limit, fault.reset_in_s, authenticated=authenticated
            )
        if answer is None:
            answer = self._dispatch(request, matched)
        action, slow_body_s = fault_rules.delivery(fault)

        headers: list[tuple[str, str]] = []
        if answer.status:
            headers.append(("Content-Type", answer.content_type))
            headers.append(("X-Request-Id", uuid.uuid4().hex))
        headers.extend(answer.headers)
        self.log.append(
            masked_entry(
                request,
                status=answer.status,
                mutation=answer.mutation,
                route=route_key if matched or route_key in OAUTH_ROUTE_KEYS else None,
                fault=fault.kind.value if fault else None,
                scrubber=self._current_scrubber(),
            )
        )
        return SandboxResponse(
            status=answer.status,
            headers=tuple(headers),
            body=answer.encoded(),
            delay_s=delay_s,
            fault=action,
            slow_body_s=slow_body_s,
        )

    def _current_scrubber(self) -> Scrubber:
        """The scrubber for every secret known now: rebuilt only when a token, client or code changed.

        Two groups, compiled apart (see `log`): what the configuration holds (token values, client secrets)
        and what OAuth adds as it runs (issued tokens, unexchanged codes), so a new code never recompiles
        thousands of configured tokens.
        """
        token_generation, configured, issued = self._tokens.secret_groups()
        oauth_generation, client_secrets, codes = self._oauth.secret_groups()
        key = (token_generation, oauth_generation)
        with self._scrubber_lock:
            if key != self._scrubber_key:
                self._scrubber = Scrubber([(*configured, *client_secrets), (*issued, *codes)])
                self._scrubber_key = key
            return self._scrubber

    # dispatch ----------------------------------------------------------------------------------------

    def _dispatch(self, request: SandboxRequest, matched: tuple[Route, str | None] | None) -> Answer:
        oauth = self._oauth.answer(f"{request.method} {request.path.rstrip('/') or '/'}", request)
        if oauth is not None:
            return oauth

        token = self._tokens.authenticate(request)
        if not isinstance(token, TokenConfig):
            return token
        workspace = self._config.workspace(token.workspace)
        admin = workspace.admin(token.admin) if workspace else None
        if workspace is None or admin is None:
            # The token's workspace was removed by a config change: Intercom would not know the token.
            return error(401, "unauthorized", "Access Token Invalid")

        limit = self._config.rate_limit
        allowed, reset, headers = self._limiter.count(workspace.id_code, limit)
        if allowed:
            answer = self._authorized(request, matched, token, workspace, admin)
        else:
            answer = rate_limited(limit)
            headers = (*headers, self._limiter.retry_after(reset))
        return dataclasses.replace(answer, headers=(*headers, *answer.headers))

    def _authorized(
        self,
        request: SandboxRequest,
        matched: tuple[Route, str | None] | None,
        token: TokenConfig,
        workspace: WorkspaceConfig,
        admin: AdminConfig,
    ) -> Answer:
        accept = request.headers.get("accept", "*/*")
        if not any(kind in accept for kind in ("application/json", "*/*", "application/*")):
            return error(406, "not_acceptable", "Accept header must allow application/json")
        version = request.headers.get("intercom-version", self._config.default_api_version).strip()
        if version not in self._config.api_versions:
            return error(
                400, "intercom_version_invalid", "Requested resource is not available in current API version."
            )
        if matched is None or matched[0].key in self._config.absent_routes:
            return route_miss()
        route, record_id = matched
        if version in route.absent_in:
            # API-NOTES §1 [EX][OBS]: an endpoint the requested version does not have.
            return error(
                400, "intercom_version_invalid", "Requested resource is not available in current API version."
            )
        if route.key == ME_ROUTE_KEY and self._config.me_requires_read_admins:
            route = dataclasses.replace(route, required=Label.READ_ADMINS)
        refused = refusal(route, token, workspace)
        if refused is not None:
            return refused
        call = Call(request, route, record_id, token, workspace, admin, version)
        return HANDLERS[route.key](call)
