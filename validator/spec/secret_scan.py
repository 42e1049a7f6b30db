"""Secrets in a connector.yaml: found in code, because the schema's messages would echo the value.

A key that names a secret (`token`, `password`, ...; `*_env` keys name a variable and are fine), an Intercom
access token as a key or a value. `redact` is the last line of defence for every message about the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from validator.spec.problems import Found, under_any
from validator.spec.yamlnodes import Document, Located

# Key names that hold a secret. `*_env` keys name the environment variable that holds one, and are fine.
_SECRET_KEY = re.compile(
    r"token|secret|passw(?:or)?d|api[_-]?key|access[_-]?key|private[_-]?key", re.IGNORECASE
)
# Intercom access tokens are base64 of "tok:..." (API-NOTES §1).
_TOKEN_MARK = "dG9rOj"
_REDACTED = "<redacted>"

_SECRET_ADVICE = (
    "never put secrets in connector.yaml: put the secret in an environment variable and name that "
    "variable in auth.token_env (auth.client_secret_env for an OAuth client secret)"
)
_TOKEN_ADVICE = (
    "never put a token in connector.yaml: put it in an environment variable and name that variable in "
    "auth.token_env; if this file was ever committed, revoke the token"
)

# Characters no message may carry as they are: C0 and C1 controls (escape sequences, line breaks that would
# start a CI workflow command), bidirectional overrides and isolates (text displayed in another order than
# it is stored: "Trojan Source"), and lone surrogates (not characters; they cannot be encoded as UTF-8).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def redact(text: str) -> str:
    """Last line of defence: no message may carry a token, whatever check produced it, nor a control
    character from the file (an escape sequence, or a line break that would start a CI workflow command)."""
    text = re.sub(rf"{_TOKEN_MARK}\S*", _REDACTED, text)
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)


def secret_problems(document: Document, secret_paths: set[str]) -> Iterator[Found]:
    for located in document.all_values():
        if under_any(located.path, secret_paths):
            continue  # already reported where the secret starts
        problem = _secret_problem(located)
        if problem is not None:
            secret_paths.add(located.path)
            yield problem


def _secret_problem(located: Located) -> Found | None:
    key = located.key
    where = located.key_position or located.position
    if key is not None and _TOKEN_MARK in key:
        return Found(where, f"this key looks like an Intercom access token; {_TOKEN_ADVICE}", located.path)
    if key is not None and _SECRET_KEY.search(key) and not key.lower().endswith("_env"):
        return Found(where, f"the key {key!r} looks like it holds a secret; {_SECRET_ADVICE}", located.path)
    if isinstance(located.value, str) and _TOKEN_MARK in located.value:
        if located.path == "$.auth.token_env":
            message = (
                "auth.token_env must name the environment variable that holds the token, not the token "
                f"itself (e.g. token_env: INTERCOM_ACCESS_TOKEN); {_TOKEN_ADVICE}"
            )
        else:
            message = f"this value looks like an Intercom access token; {_TOKEN_ADVICE}"
        return Found(located.position, message, located.path)
    return None
