"""The OAuth server (API-NOTES §7): the authorize redirect and the code-for-token exchange.

These two endpoints take no bearer token. A code is single use and expires after `OAUTH_CODE_TTL_S`; an
exchanged code becomes a token the sandbox then accepts like a configured one.
"""

from __future__ import annotations

import base64
import hmac
import itertools
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from validator.sandbox.config import OAUTH_ROUTE_KEYS, Consent, OAuthClientConfig, TokenConfig
from validator.sandbox.wire import Answer, SandboxRequest, error, json_object

OAUTH_AUTHORIZE, OAUTH_TOKEN = OAUTH_ROUTE_KEYS  # "GET /oauth", "POST /auth/eagle/token"
OAUTH_CODE_TTL_S = 300  # "it expires after about 5 minutes" (API-NOTES §7)

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


@dataclass(frozen=True)
class _OAuthCode:
    client_id: str
    issued_at: float


class OAuthServer:
    """Issues codes to the configured clients and exchanges them for tokens, handed to `issue`."""

    def __init__(self, clock: Callable[[], float], issue: Callable[[TokenConfig], None]) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._issue = issue
        self._clients: dict[str, OAuthClientConfig] = {}
        self._codes: dict[str, _OAuthCode] = {}
        self._code_sizes = itertools.cycle((16, 17, 15))  # base64 padding "==", "=", none: all three occur
        self._generation = 0

    def install(self, clients: Iterable[OAuthClientConfig]) -> None:
        """Replace the registered clients; codes already issued stay exchangeable for their client id."""
        with self._lock:
            self._clients = {c.client_id: c for c in clients}
            self._generation += 1

    def secret_groups(self) -> tuple[int, tuple[str, ...], tuple[str, ...]]:
        """(generation, client secrets, unexchanged codes): what the request log must mask.

        The generation changes whenever either does, so a cached scrubber knows when to rebuild.
        """
        with self._lock:
            secrets = tuple(c.client_secret for c in self._clients.values())
            return self._generation, secrets, tuple(self._codes)

    def answer(self, key: str, request: SandboxRequest) -> Answer | None:
        """The answer of an OAuth endpoint, or None when `key` ("GET /oauth") names none."""
        if key == OAUTH_AUTHORIZE:
            return self._authorize(request)
        if key == OAUTH_TOKEN:
            return self._exchange_code(request)
        return None

    def _authorize(self, request: SandboxRequest) -> Answer:
        client = self._clients.get(request.param("client_id") or "")
        if client is None:
            return error(400, "invalid_client", "Unknown client_id")
        redirect = request.param("redirect_uri") or client.redirect_urls[0]
        if not any(redirect_matches(url, redirect) for url in client.redirect_urls):
            return error(400, "invalid_redirect_uri", "redirect_uri is not registered for this app")
        state = request.param("state")
        params: dict[str, str] = {}
        if client.consent == Consent.APPROVE:
            params["code"] = self._new_code(client)
        else:
            params["error"] = "access_denied"
        if state is not None:
            params["state"] = state
        separator = "&" if urlsplit(redirect).query else "?"
        return Answer(302, None, headers=(("Location", f"{redirect}{separator}{urlencode(params)}"),))

    def _new_code(self, client: OAuthClientConfig) -> str:
        with self._lock:
            code = base64.urlsafe_b64encode(secrets.token_bytes(next(self._code_sizes))).decode()
            self._codes[code] = _OAuthCode(client.client_id, self._clock())
            self._generation += 1
        return code

    def _exchange_code(self, request: SandboxRequest) -> Answer:
        form = _form_or_json(request)
        client = self._clients.get(form.get("client_id", ""))
        code = form.get("code", "")
        unauthorized = error(401, "unauthorized", "Unauthorized Code")
        if client is None or not hmac.compare_digest(
            form.get("client_secret", "").encode(), client.client_secret.encode()
        ):
            return unauthorized
        with self._lock:
            issued = self._codes.get(code)
            if issued is None or issued.client_id != client.client_id:
                return unauthorized
            del self._codes[code]  # single use, even when expired
            self._generation += 1
            if self._clock() - issued.issued_at > OAUTH_CODE_TTL_S:
                return unauthorized
            token = TokenConfig(
                value=f"sandbox-oauth-{secrets.token_hex(12)}",
                workspace=client.workspace,
                admin=client.admin,
                permissions=client.permissions,
                name=f"OAuth: {client.client_id}",
            )
            self._issue(token)  # under the lock: once the code is gone, the token is known
        return Answer(200, {"token_type": "Bearer", "token": token.value, "access_token": token.value})


def _form_or_json(request: SandboxRequest) -> dict[str, str]:
    if "json" in request.headers.get("content-type", ""):
        return {k: str(v) for k, v in json_object(request.body).items()}
    parsed = parse_qs(request.body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}
