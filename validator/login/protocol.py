"""The OAuth protocol of `login` (API-NOTES §7): the authorize URL, the callback's query, its state.

Where the authorize page and the token endpoint are is the catalog's (`oauth:`). `state` is checked in
constant time; a callback's code is kept exactly as received (percent-decoded once; a literal `+` stays a
`+`, and it may end in `=`). The error that stops `login` before a token exists, carrying its `ExitCode`,
lives here too.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlencode

from validator.errors import ExitCode, ValidatorError
from validator.model import ConnectorSpec


class LoginError(ValidatorError):
    """Stops `login` with a one-line message (never holding a secret) and its exit code (ExitCode.LOGIN_*
    or USAGE)."""


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class Callback:
    """What the browser brought back to the listener, exactly as received (decoded once, never stripped)."""

    @classmethod
    def from_query(cls, query: str) -> Callback:
        """Read a callback's raw query string.

        Each value is percent-decoded once and nothing else: a literal `+` stays a `+` (an authorization code
        may hold one, and `parse_qs` would turn it into a space), and a trailing `=` is kept. The first value
        of a repeated name counts.
        """
        values: dict[str, str] = {}
        for pair in query.split("&"):
            if not pair:
                continue
            name, _, value = pair.partition("=")
            values.setdefault(unquote(name), unquote(value))
        return cls(code=values.get("code"), state=values.get("state"), error=values.get("error"))

    code: str | None = field(default=None, repr=False)
    state: str | None = None
    error: str | None = None


def client_credentials(spec: ConnectorSpec, environ: Mapping[str, str]) -> ClientCredentials:
    """The OAuth client id and secret from the environment variables connector.yaml names."""
    auth = spec.auth
    if auth.client_id_env is None or auth.client_secret_env is None:
        absent = [key for key in ("client_id_env", "client_secret_env") if getattr(auth, key) is None]
        raise LoginError(
            f"{spec.path}: auth has no {' and no '.join(absent)}; add e.g. client_id_env: INTERCOM_CLIENT_ID "
            "and client_secret_env: INTERCOM_CLIENT_SECRET under auth, and set those variables",
            ExitCode.USAGE,
        )
    values = {name: environ.get(name, "").strip() for name in (auth.client_id_env, auth.client_secret_env)}
    unset = [name for name, value in values.items() if not value]
    if unset:
        raise LoginError(
            f"the environment variable {' and '.join(unset)} (named in {spec.path} auth) is not set or "
            "empty; set it to the app's OAuth client id/secret, shown on the app's page in Developer Hub",
            ExitCode.USAGE,
        )
    odd = [name for name, value in values.items() if not value.isascii() or not value.isprintable()]
    if odd:
        raise LoginError(
            f"the environment variable {' and '.join(odd)} holds characters an OAuth client id or secret "
            "never has (non-ASCII or control characters); check the variable",
            ExitCode.USAGE,
        )
    return ClientCredentials(values[auth.client_id_env], values[auth.client_secret_env])


def authorize_url(page: str, client_id: str, state: str, redirect_uri: str) -> str:
    """The authorize `page` (host and path, from the catalog) asked for this login's client and state."""
    query = urlencode({"client_id": client_id, "state": state, "redirect_uri": redirect_uri})
    return f"{page}?{query}"


def state_matches(callback: Callback, expected_state: str) -> bool:
    """Whether the callback carries this login's state (compared in constant time)."""
    return callback.state is not None and hmac.compare_digest(
        callback.state.encode(), expected_state.encode()
    )


def code_from(callback: Callback, expected_state: str) -> str:
    """The authorization code of a callback whose state is ours; LoginError for anything else."""
    if not state_matches(callback, expected_state):
        raise LoginError(
            "the callback's state is missing or does not match this login (a stale tab, or a forged "
            "request); nothing was exchanged; run login again",
            ExitCode.LOGIN_STATE,
        )
    if callback.error == "access_denied":
        raise LoginError(
            "the app was not authorized: consent was denied in the browser", ExitCode.LOGIN_DENIED
        )
    if callback.error is not None:
        raise LoginError(
            f"Intercom returned the OAuth error {_printable(callback.error)!r}", ExitCode.LOGIN_UNEXPECTED
        )
    if not callback.code:
        raise LoginError("the callback carried no authorization code", ExitCode.LOGIN_UNEXPECTED)
    return callback.code


def _printable(text: str) -> str:
    cleaned = "".join(char for char in text if char.isalnum() or char in "_-.")
    return cleaned[:60]
