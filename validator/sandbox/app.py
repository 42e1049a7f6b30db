"""The scope-aware Intercom sandbox: one `handle(request) -> response` shared by every adapter.

The order in which a request is judged (each step is [INF] unless noted; Intercom does not document it):

1. injected faults (a proxy or load balancer in front of Intercom fails before Intercom sees anything);
2. the OAuth endpoints, which take no bearer token (API-NOTES §7);
3. the bearer token: unknown or invalid → 401 `unauthorized`, revoked → 401 `token_revoked` (§3);
4. the rate limit of the token's workspace: 429 `rate_limit_exceeded` (§6); from here on every answer
   carries `X-RateLimit-*` headers, because the credentials were valid;
5. `Accept` (406) and `Intercom-Version` (400 `intercom_version_invalid`, §1);
6. the route: unknown → 404;
7. the permission (§4): missing → 401 `token_unauthorized` or 403 `forbidden`, as configured (§3). It is
   checked before the body or the id, as Intercom's per-route scope mapping suggests (§5);
8. the plan: 403 `api_plan_restricted` (§3);
9. the endpoint itself: invalid bodies and impossible ids answer 400/404 as documented; a write that would
   succeed answers 200 and is flagged as a mutation in the request log, while the data stays unchanged.
"""

from __future__ import annotations

import base64
import dataclasses
import hmac
import itertools
import json
import math
import secrets
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from validator.sandbox import fixtures
from validator.sandbox.config import (
    AdminConfig,
    Consent,
    FaultConfig,
    FaultKind,
    MissingPermissionStyle,
    OAuthClientConfig,
    SandboxConfig,
    TokenConfig,
    TokenStatus,
    WorkspaceConfig,
    default_config,
)
from validator.sandbox.permissions import SCOPE_IDS, Route, match_route

JsonObject = dict[str, Any]

OAUTH_AUTHORIZE = "GET /oauth"
OAUTH_TOKEN = "POST /auth/eagle/token"
OAUTH_CODE_TTL_S = 300  # "it expires after about 5 minutes" (API-NOTES §7)
MASK = "***"
_KNOWN_STATUSES = frozenset(s.value for s in HTTPStatus)

_PROXY_ERROR_PAGE = (
    "<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


# --- requests and responses -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SandboxRequest:
    """An HTTP request as the sandbox sees it; header names are lower-case."""

    method: str
    path: str
    query: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # holds the bearer token
    body: bytes = b""

    @classmethod
    def build(
        cls, method: str, target: str, headers: Iterable[tuple[str, str]] = (), body: bytes = b""
    ) -> SandboxRequest:
        """Build from a request target (`/contacts?per_page=1`, or a full URL) and raw headers."""
        split = urlsplit(target)
        query = {k: tuple(v) for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        return cls(
            method=method.upper(),
            path=split.path or "/",
            query=query,
            headers={name.lower(): value for name, value in headers},
            body=body,
        )

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


class FaultAction(StrEnum):
    """Faults an adapter must enact itself, because they concern the connection rather than the answer."""

    DROP = "drop"  # close the connection without answering
    TRUNCATE = "truncate"  # announce the full Content-Length, send part of the body, close
    SLOW_BODY = "slow_body"  # send the body in small pieces over `slow_body_s`


@dataclass(frozen=True)
class SandboxResponse:
    """The answer, plus how to deliver it: wait `delay_s` first, then enact `fault` if set."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    delay_s: float = 0.0
    fault: FaultAction | None = None
    slow_body_s: float = 0.0

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def json(self) -> Any:
        return json.loads(self.body)


# --- the request log ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    """One request as received, with every secret masked; `mutation` marks a write that would succeed."""

    method: str
    path: str
    query: Mapping[str, tuple[str, ...]]
    headers: Mapping[str, str]
    body: Any
    status: int
    mutation: bool
    route: str | None
    fault: str | None = None


class RequestLog:
    """Thread-safe, append-only record of every request a sandbox handled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LogEntry] = []

    def append(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    @property
    def entries(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries)

    @property
    def mutations(self) -> list[LogEntry]:
        """Requests that would have changed workspace data. Tests fail on any (see tests/conftest.py)."""
        return [entry for entry in self.entries if entry.mutation]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self.entries)


# Every Sandbox ever created and still alive, so the test suite can check all of them for mutations.
_REGISTRY: weakref.WeakSet[Sandbox] = weakref.WeakSet()


def live_sandboxes() -> list[Sandbox]:
    """All Sandbox instances that are still referenced somewhere."""
    return list(_REGISTRY)


# --- internal results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    status: int
    body: JsonObject | None
    mutation: bool = False
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class _FaultState:
    fault: FaultConfig
    remaining: int | None


@dataclass(frozen=True)
class _Call:
    """A request that passed authentication, version and permission checks."""

    request: SandboxRequest
    route: Route
    record_id: str | None
    token: TokenConfig
    workspace: WorkspaceConfig
    admin: AdminConfig
    version: str
    body: JsonObject


@dataclass(frozen=True)
class _OAuthCode:
    client_id: str
    issued_at: float


def _error(status: int, code: str, message: str | None, **extra: Any) -> _Answer:
    error: JsonObject = {"code": code, "message": message, **extra}
    return _Answer(status, {"type": "error.list", "request_id": str(uuid.uuid4()), "errors": [error]})


def _per_page(request: SandboxRequest, default: int) -> int:
    try:
        return max(1, min(150, int(request.param("per_page") or default)))
    except ValueError:
        return default


def _json_object(body: bytes) -> JsonObject:
    """A JSON object body, or {} for anything else: Intercom reads absent fields the same way [INF]."""
    if not body:
        return {}
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _nonempty_str(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1"})


def redirect_matches(registered: str, candidate: str) -> bool:
    """Whether `candidate` is an allowed redirect for `registered`.

    Exact match, except that for loopback IP literals the port is ignored (RFC 8252 §7.3), so a CLI can
    listen on an ephemeral port.
    """
    if registered == candidate:
        return True
    a, b = urlsplit(registered), urlsplit(candidate)
    return (
        a.hostname in _LOOPBACK_HOSTS
        and a.scheme == b.scheme
        and a.hostname == b.hostname
        and (a.path or "/") == (b.path or "/")
        and a.query == b.query
    )


# --- the sandbox ----------------------------------------------------------------------------------------


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
        self._issued: list[TokenConfig] = []
        self._codes: dict[str, _OAuthCode] = {}
        self._code_sizes = itertools.cycle((16, 17, 15))  # base64 padding "==", "=", none: all three occur
        self._windows: dict[str, tuple[int, int]] = {}  # workspace → (window start, requests counted)
        self._install(config or default_config())
        _REGISTRY.add(self)

    # configuration -----------------------------------------------------------------------------------

    def _install(self, config: SandboxConfig) -> None:
        self._config = config
        self._faults = [_FaultState(f, f.times) for f in config.faults]
        self._tokens = {t.value: t for t in (*config.tokens, *self._issued)}
        self._clients = {c.client_id: c for c in config.oauth_clients}

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
            self._faults.append(_FaultState(fault, fault.times))

    def clear_faults(self) -> None:
        with self._lock:
            self._config = dataclasses.replace(self._config, faults=())
            self._faults = []

    def accepted_tokens(self) -> list[TokenConfig]:
        """Configured and OAuth-issued tokens that authenticate (active ones)."""
        with self._lock:
            return [t for t in self._tokens.values() if t.status == TokenStatus.ACTIVE]

    # the entry point ---------------------------------------------------------------------------------

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Answer one request and record it in the log."""
        matched = match_route(request.method, request.path)
        route_key = matched[0].key if matched else f"{request.method} {request.path}"
        delay_s, fault = self._take_faults(route_key)

        action: FaultAction | None = None
        slow_body_s = 0.0
        answer: _Answer | None = None
        content_type = "application/json; charset=utf-8"
        raw_body: bytes | None = None
        if fault is not None and fault.kind == FaultKind.DROP:
            action = FaultAction.DROP
            answer = _Answer(0, None)
        elif fault is not None and fault.kind == FaultKind.STATUS:
            answer = _error(fault.status, "server_error", "Server error")
        elif fault is not None and fault.kind == FaultKind.HTML:
            answer = _Answer(fault.status, None)
            content_type = "text/html"
            phrase = HTTPStatus(fault.status).phrase if fault.status in _KNOWN_STATUSES else "Error"
            raw_body = _PROXY_ERROR_PAGE.format(status=fault.status, phrase=phrase).encode()
        elif fault is not None and fault.kind == FaultKind.RATE_LIMIT:
            answer = self._injected_rate_limit(request, fault)
        else:
            answer = self._dispatch(request, matched)
            if fault is not None and fault.kind == FaultKind.TRUNCATE:
                action = FaultAction.TRUNCATE
            elif fault is not None and fault.kind == FaultKind.SLOW_BODY:
                action = FaultAction.SLOW_BODY
                slow_body_s = fault.ms / 1000

        body = raw_body if raw_body is not None else b""
        if raw_body is None and answer.body is not None:
            body = json.dumps(answer.body, separators=(",", ":")).encode()
        headers: list[tuple[str, str]] = []
        if answer.status:
            headers.append(("Content-Type", content_type))
            headers.append(("X-Request-Id", uuid.uuid4().hex))
        headers.extend(answer.headers)
        self._record(request, answer, route_key if matched or route_key in _OAUTH_KEYS else None, fault)
        return SandboxResponse(
            status=answer.status,
            headers=tuple(headers),
            body=body,
            delay_s=delay_s,
            fault=action,
            slow_body_s=slow_body_s,
        )

    # faults ------------------------------------------------------------------------------------------

    def _take_faults(self, route_key: str) -> tuple[float, FaultConfig | None]:
        """Consume the faults matching this request: latencies add up, the first other fault wins."""
        delay_ms = 0
        chosen: FaultConfig | None = None
        with self._lock:
            for state in self._faults:
                fault = state.fault
                if fault.route not in ("*", route_key) or state.remaining == 0:
                    continue
                if fault.kind == FaultKind.LATENCY:
                    delay_ms += fault.ms
                elif chosen is None:
                    chosen = fault
                else:
                    continue  # not applied to this request, so not consumed either
                if state.remaining is not None:
                    state.remaining -= 1
        return delay_ms / 1000, chosen

    def _injected_rate_limit(self, request: SandboxRequest, fault: FaultConfig) -> _Answer:
        token = self._authenticate(request)
        limit = self._config.rate_limit
        answer = self._rate_limited_answer(limit.limit, limit.window_seconds)
        if isinstance(token, TokenConfig):
            reset = self._window_start() + limit.window_seconds
            if fault.reset_in_s is not None:
                reset = int(self._clock()) + fault.reset_in_s
            headers = (*self._rate_headers(0, reset, limit.limit), self._retry_after(reset))
            return dataclasses.replace(answer, headers=(*headers, *answer.headers))
        return answer

    # dispatch ----------------------------------------------------------------------------------------

    def _dispatch(self, request: SandboxRequest, matched: tuple[Route, str | None] | None) -> _Answer:
        key = f"{request.method} {request.path.rstrip('/') or '/'}"
        if key == OAUTH_AUTHORIZE:
            return self._authorize(request)
        if key == OAUTH_TOKEN:
            return self._exchange_code(request)

        token = self._authenticate(request)
        if not isinstance(token, TokenConfig):
            return token
        workspace = self._config.workspace(token.workspace)
        admin = workspace.admin(token.admin) if workspace else None
        if workspace is None or admin is None:
            # The token's workspace was removed by a config change: Intercom would not know the token.
            return _error(401, "unauthorized", "Access Token Invalid")

        allowed, reset, headers = self._count_request(workspace.id_code)
        if allowed:
            answer = self._authorized(request, matched, token, workspace, admin)
        else:
            limit = self._config.rate_limit
            answer = self._rate_limited_answer(limit.limit, limit.window_seconds)
            headers = (*headers, self._retry_after(reset))
        return dataclasses.replace(answer, headers=(*headers, *answer.headers))

    def _authenticate(self, request: SandboxRequest) -> TokenConfig | _Answer:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        token = self._tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None or token.status == TokenStatus.INVALID:
            return _error(401, "unauthorized", "Access Token Invalid")
        if token.status == TokenStatus.REVOKED:
            return _error(401, "token_revoked", "Token revoked")
        return token

    def _authorized(
        self,
        request: SandboxRequest,
        matched: tuple[Route, str | None] | None,
        token: TokenConfig,
        workspace: WorkspaceConfig,
        admin: AdminConfig,
    ) -> _Answer:
        accept = request.headers.get("accept", "*/*")
        if not any(kind in accept for kind in ("application/json", "*/*", "application/*")):
            return _error(406, "not_acceptable", "Accept header must allow application/json")
        version = request.headers.get("intercom-version", self._config.default_api_version).strip()
        if version not in self._config.api_versions:
            return _error(
                400, "intercom_version_invalid", "Requested resource is not available in current API version."
            )
        if matched is None:
            return _error(404, "not_found", "Resource Not Found")
        route, record_id = matched
        if not route.permitted(token.permissions) or route.key in token.withheld_routes:
            return self._missing_permission(route, workspace)
        if route.data_type is not None and route.data_type in workspace.plan_restricted:
            return _error(403, "api_plan_restricted", "Active subscription needed.")
        call = _Call(request, route, record_id, token, workspace, admin, version, _json_object(request.body))
        return _HANDLERS[route.key](call)

    def _missing_permission(self, route: Route, workspace: WorkspaceConfig) -> _Answer:
        if workspace.style_for(route.key) == MissingPermissionStyle.FORBIDDEN and route.required is not None:
            scope = SCOPE_IDS[route.required]
            return _error(
                403, "forbidden", f"You do not have the required scope ({scope}) to access this resource"
            )
        return _error(401, "token_unauthorized", "Not authorized to access resource")

    # rate limits -------------------------------------------------------------------------------------

    def _window_start(self) -> int:
        window = self._config.rate_limit.window_seconds
        return int(self._clock() // window * window)

    def _count_request(self, workspace_id: str) -> tuple[bool, int, tuple[tuple[str, str], ...]]:
        """Count one request against the workspace's current window (§6: 10-second windows per app)."""
        limit = self._config.rate_limit
        start = self._window_start()
        with self._lock:
            window_start, used = self._windows.get(workspace_id, (start, 0))
            if window_start != start:
                used = 0
            allowed = used < limit.limit
            if allowed:
                used += 1
            self._windows[workspace_id] = (start, used)
        reset = start + limit.window_seconds
        return allowed, reset, self._rate_headers(limit.limit - used, reset, limit.limit)

    def _rate_headers(self, remaining: int, reset: int, limit: int) -> tuple[tuple[str, str], ...]:
        return (
            ("X-RateLimit-Limit", str(limit)),
            ("X-RateLimit-Remaining", str(max(0, remaining))),
            ("X-RateLimit-Reset", str(reset)),
        )

    def _retry_after(self, reset: int) -> tuple[str, str]:
        return ("Retry-After", str(max(1, math.ceil(reset - self._clock()))))

    @staticmethod
    def _rate_limited_answer(limit: int, window_seconds: int) -> _Answer:
        return _error(
            429, "rate_limit_exceeded", f"Exceeded rate limit of {limit} in {window_seconds}_seconds"
        )

    # OAuth (API-NOTES §7) ----------------------------------------------------------------------------

    def _authorize(self, request: SandboxRequest) -> _Answer:
        client = self._clients.get(request.param("client_id") or "")
        if client is None:
            return _error(400, "invalid_client", "Unknown client_id")
        redirect = request.param("redirect_uri") or client.redirect_urls[0]
        if not any(redirect_matches(url, redirect) for url in client.redirect_urls):
            return _error(400, "invalid_redirect_uri", "redirect_uri is not registered for this app")
        state = request.param("state")
        params: dict[str, str] = {}
        if client.consent == Consent.APPROVE:
            params["code"] = self._new_code(client)
        else:
            params["error"] = "access_denied"
        if state is not None:
            params["state"] = state
        separator = "&" if urlsplit(redirect).query else "?"
        return _Answer(302, None, headers=(("Location", f"{redirect}{separator}{urlencode(params)}"),))

    def _new_code(self, client: OAuthClientConfig) -> str:
        with self._lock:
            code = base64.urlsafe_b64encode(secrets.token_bytes(next(self._code_sizes))).decode()
            self._codes[code] = _OAuthCode(client.client_id, self._clock())
        return code

    def _exchange_code(self, request: SandboxRequest) -> _Answer:
        form = _form_or_json(request)
        client = self._clients.get(form.get("client_id", ""))
        code = form.get("code", "")
        unauthorized = _error(401, "unauthorized", "Unauthorized Code")
        if client is None or not hmac.compare_digest(
            form.get("client_secret", "").encode(), client.client_secret.encode()
        ):
            return unauthorized
        with self._lock:
            issued = self._codes.get(code)
            if issued is None or issued.client_id != client.client_id:
                return unauthorized
            del self._codes[code]  # single use, even when expired
            if self._clock() - issued.issued_at > OAUTH_CODE_TTL_S:
                return unauthorized
            token = TokenConfig(
                value=f"sandbox-oauth-{secrets.token_hex(12)}",
                workspace=client.workspace,
                admin=client.admin,
                permissions=client.permissions,
                name=f"OAuth: {client.client_id}",
            )
            self._issued.append(token)
            self._tokens[token.value] = token
        return _Answer(200, {"token_type": "Bearer", "token": token.value, "access_token": token.value})

    # logging -----------------------------------------------------------------------------------------

    def _secrets(self) -> list[str]:
        with self._lock:
            values = [*self._tokens, *(c.client_secret for c in self._clients.values()), *self._codes]
        return [v for v in values if v]

    def _record(
        self, request: SandboxRequest, answer: _Answer, route: str | None, fault: FaultConfig | None
    ) -> None:
        known = self._secrets()

        def scrub(value: Any) -> Any:
            if isinstance(value, str):
                for secret in known:
                    if secret in value:
                        value = value.replace(secret, MASK)
                return value
            if isinstance(value, dict):
                return {k: MASK if k in _SECRET_FIELDS else scrub(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return [scrub(v) for v in value]
            return value

        headers = {}
        for name, value in request.headers.items():
            if name == "authorization":
                scheme = value.partition(" ")[0]
                headers[name] = f"{scheme} {MASK}" if scheme.lower() == "bearer" else MASK
            elif name in ("cookie", "proxy-authorization"):
                headers[name] = MASK
            else:
                headers[name] = scrub(value)
        body: Any = None
        if request.body:
            text = request.body.decode("utf-8", errors="replace")
            try:
                body = json.loads(text)
            except ValueError:
                form = parse_qs(text, keep_blank_values=True)
                body = {k: v[0] for k, v in form.items()} if form and "=" in text else text
        self.log.append(
            LogEntry(
                method=request.method,
                path=request.path,
                query={k: tuple(scrub(list(v))) for k, v in request.query.items()},
                headers=headers,
                body=scrub(body),
                status=answer.status,
                mutation=answer.mutation,
                route=route,
                fault=fault.kind.value if fault else None,
            )
        )


_OAUTH_KEYS = (OAUTH_AUTHORIZE, OAUTH_TOKEN)
_SECRET_FIELDS = frozenset({"client_secret", "code", "token", "access_token", "password"})


def _form_or_json(request: SandboxRequest) -> dict[str, str]:
    if "json" in request.headers.get("content-type", ""):
        return {k: str(v) for k, v in _json_object(request.body).items()}
    parsed = parse_qs(request.body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


# --- endpoints (API-NOTES §5; answers follow the OpenAPI examples) ---------------------------------------


def _me(call: _Call) -> _Answer:
    return _Answer(200, fixtures.me(call.workspace, call.admin))


def _list_contacts(call: _Call) -> _Answer:
    return _Answer(200, fixtures.Listing(call.workspace).contacts(_per_page(call.request, 50)))


def _contact_not_found() -> _Answer:
    # Undocumented for these routes (only 200/401 are): the contract test allowlists it [INF].
    return _error(404, "not_found", "User Not Found")


def _get_contact(call: _Call) -> _Answer:
    if call.record_id not in fixtures.CONTACT_IDS:
        return _contact_not_found()
    return _Answer(200, fixtures.contact(call.workspace, call.record_id))


def _update_contact(call: _Call) -> _Answer:
    if call.record_id not in fixtures.CONTACT_IDS:
        return _contact_not_found()
    updated = fixtures.contact(call.workspace, call.record_id)
    updated.update({k: v for k, v in call.body.items() if k in ("name", "email") and isinstance(v, str)})
    return _Answer(200, updated, mutation=True)


def _attach_contact_to_company(call: _Call) -> _Answer:
    if call.record_id not in fixtures.CONTACT_IDS:
        return _error(404, "not_found", "User Not Found")
    company_id = call.body.get("id")
    if not _nonempty_str(company_id):
        return _error(400, "parameter_not_found", "company not specified")
    if company_id not in fixtures.COMPANY_IDS:
        return _error(404, "company_not_found", "Company Not Found")
    return _Answer(200, fixtures.company(call.workspace, str(company_id)), mutation=True)


def _list_companies(call: _Call) -> _Answer:
    return _Answer(200, fixtures.Listing(call.workspace).companies(_per_page(call.request, 15)))


_COMPANY_FIELDS = frozenset(
    {
        "name",
        "company_id",
        "plan",
        "size",
        "website",
        "industry",
        "custom_attributes",
        "remote_created_at",
        "monthly_spend",
    }
)


def _create_or_update_company(call: _Call) -> _Answer:
    unknown = sorted(k for k in call.body if k not in _COMPANY_FIELDS)
    if unknown:
        return _error(400, "bad_request", f"bad '{unknown[0]}' parameter")
    if not _nonempty_str(call.body.get("company_id")) and not _nonempty_str(call.body.get("name")):
        return _error(400, "bad_request", "company_id or name is required")  # message [INF]
    created = fixtures.company(call.workspace, fixtures.COMPANY_IDS[0], name=call.body.get("name"))
    created["company_id"] = str(call.body.get("company_id") or created["company_id"])
    return _Answer(200, created, mutation=True)


def _update_company(call: _Call) -> _Answer:
    if call.record_id not in fixtures.COMPANY_IDS:
        return _error(404, "company_not_found", "Company Not Found")
    name = call.body.get("name") if _nonempty_str(call.body.get("name")) else None
    return _Answer(200, fixtures.company(call.workspace, call.record_id, name=name), mutation=True)


def _list_conversations(call: _Call) -> _Answer:
    return _Answer(
        200, fixtures.Listing(call.workspace).conversations(_per_page(call.request, 20), call.version)
    )


def _change_conversation(call: _Call) -> _Answer:
    if call.record_id not in fixtures.CONVERSATION_IDS:
        return _error(404, "not_found", "Resource Not Found")
    conversation = fixtures.conversation(call.workspace, call.record_id, call.version)
    if isinstance(call.body.get("read"), bool):
        conversation["read"] = call.body["read"]
    return _Answer(200, conversation, mutation=True)


def _list_admins(call: _Call) -> _Answer:
    return _Answer(200, fixtures.Listing(call.workspace).admins())


def _get_admin(call: _Call) -> _Answer:
    person = call.workspace.admin(call.record_id or "")
    if person is None:
        return _error(404, "admin_not_found", "Admin not found")
    return _Answer(200, fixtures.admin(call.workspace, person))


def _set_away(call: _Call) -> _Answer:
    person = call.workspace.admin(call.record_id or "")
    if person is None:
        return _error(404, "admin_not_found", "Admin for admin_id not found")
    away = call.body.get("away_mode_enabled", True) is True
    return _Answer(200, fixtures.admin(call.workspace, person, away=away), mutation=True)


def _list_teams(call: _Call) -> _Answer:
    return _Answer(200, fixtures.Listing(call.workspace).teams())


def _list_tags(call: _Call) -> _Answer:
    return _Answer(200, fixtures.Listing(call.workspace).tags())


def _create_tag(call: _Call) -> _Answer:
    name = call.body.get("name")
    if not _nonempty_str(name):
        return _error(400, "parameter_invalid", "invalid tag parameters")
    return _Answer(200, {"type": "tag", "id": "104", "name": name}, mutation=True)


def _counts(call: _Call) -> _Answer:
    return _Answer(200, fixtures.Listing(call.workspace).counts())


def _list_data_attributes(call: _Call) -> _Answer:
    model = call.request.param("model")
    if model is not None and model not in ("contact", "company"):
        if call.version != "2.15":
            # 2.16 documents 422 for model=conversation [EX]; other unknown models alike [INF].
            message = (
                "model=conversation is no longer supported. Use GET /conversations/attributes instead"
                if model == "conversation"
                else "model must be contact or company"
            )
            return _error(422, "parameter_invalid", message)
        # 2.15 accepts model=conversation; its attributes fall outside the response schema's model enum,
        # so the sandbox lists none [INF].
        return _Answer(200, {"type": "list", "data": []})
    return _Answer(200, fixtures.Listing(call.workspace).data_attributes(model))


_DATA_TYPES = {
    "string": "string",
    "integer": "integer",
    "float": "float",
    "boolean": "boolean",
    "date": "date",
}
_DATA_TYPES |= {"datetime": "date", "options": "string"}


def _create_data_attribute(call: _Call) -> _Answer:
    model, name, data_type = (call.body.get(k) for k in ("model", "name", "data_type"))
    if model not in ("contact", "company"):
        return _error(
            400, "parameter_invalid", "The Data Attribute model field must be either contact or company"
        )
    if not _nonempty_str(name):
        return _error(400, "parameter_invalid", "Name can't be blank")  # message [INF]
    if any(a["model"] == model and a["name"] == name for a in fixtures.DATA_ATTRIBUTES):
        return _error(
            400,
            "parameter_invalid",
            f"You already have '{name}' in your {model} data. "
            f"To save this as new {model} data, use a different name.",
        )
    if data_type not in _DATA_TYPES:
        return _error(400, "parameter_invalid", "Data Type isn't an option")
    created = fixtures.data_attribute(str(model), str(name), _DATA_TYPES[str(data_type)], custom_id=45)
    created["admin_id"] = call.admin.id
    return _Answer(200, created, mutation=True)


def _update_data_attribute(call: _Call) -> _Answer:
    existing = next(
        (a for a in fixtures.DATA_ATTRIBUTES if "id" in a and str(a["id"]) == call.record_id),
        None,
    )
    if existing is None:
        return _error(404, "field_not_found", "We couldn't find that data attribute to update")
    updated = dict(existing)
    if isinstance(call.body.get("description"), str):
        updated["description"] = call.body["description"]
    return _Answer(200, updated, mutation=True)


_HANDLERS: dict[str, Callable[[_Call], _Answer]] = {
    "GET /me": _me,
    "GET /contacts": _list_contacts,
    "GET /contacts/{id}": _get_contact,
    "PUT /contacts/{id}": _update_contact,
    "POST /contacts/{id}/companies": _attach_contact_to_company,
    "POST /companies/list": _list_companies,
    "POST /companies": _create_or_update_company,
    "PUT /companies/{id}": _update_company,
    "GET /conversations": _list_conversations,
    "PUT /conversations/{id}": _change_conversation,
    "POST /conversations/{id}/parts": _change_conversation,
    "GET /admins": _list_admins,
    "GET /admins/{id}": _get_admin,
    "PUT /admins/{id}/away": _set_away,
    "GET /teams": _list_teams,
    "GET /tags": _list_tags,
    "POST /tags": _create_tag,
    "GET /counts": _counts,
    "GET /data_attributes": _list_data_attributes,
    "POST /data_attributes": _create_data_attribute,
    "PUT /data_attributes/{id}": _update_data_attribute,
}
