"""Everything the tool does with a token's value: check that it can be one, read it, keep it out of output.

A token only ever comes from an environment variable or standard input; its value never appears in output,
reports or errors. `Scrubber` is the last line of defence for that rule, not the first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TextIO

MIN_TOKEN_LENGTH = 16  # Intercom tokens are about 60 characters; anything this short is a wiring mistake
MAX_TOKEN_LENGTH = 4096
# Intercom tokens are base64 ("dG9rOj…", API-NOTES §1); other URL-safe characters are allowed for proxies and
# the sandbox. Anything else (spaces, quotes, markup, control characters) would not survive an HTTP header
# intact, and its escaped forms in JSON or XML would slip past the scrubber.
_TOKEN_CHARACTERS = re.compile(r"[A-Za-z0-9+/=_.:~-]+")
REDACTED = "[REDACTED]"


class TokenInputError(ValueError):
    """No usable token was given; the message never repeats the value."""


def token_problem(token: str) -> str | None:
    """Why `token` cannot be an Intercom token, in words that never repeat it; None when it may be one.

    Refusing short values also keeps the output scrubber meaningful: replacing a one-letter "token"
    everywhere would mangle every report.
    """
    if not MIN_TOKEN_LENGTH <= len(token) <= MAX_TOKEN_LENGTH:
        return f"it is {len(token)} characters long (expected {MIN_TOKEN_LENGTH} to {MAX_TOKEN_LENGTH})"
    if not _TOKEN_CHARACTERS.fullmatch(token):
        return "it contains spaces, control, non-ASCII or other characters no Intercom token has"
    return None


def read_stdin_token(stream: TextIO) -> str:
    """The token on the first line of standard input (`--token-stdin`)."""
    if stream.isatty():
        raise TokenInputError(
            "--token-stdin expects the token on standard input (pipe it in; it is never an option)"
        )
    token = stream.readline().strip()
    if not token:
        raise TokenInputError("--token-stdin was given but standard input held no token")
    problem = token_problem(token)
    if problem is not None:
        raise TokenInputError(f"the token from standard input is not usable: {problem}")
    return token


SCRUB_MIN_LENGTH = 8  # shorter values are ordinary text; replacing them would garble every line


class Scrubber:
    """Replaces every known secret value in text that is about to leave the process.

    Values shorter than SCRUB_MIN_LENGTH are not replaced: they cannot be told apart from ordinary words, and
    the tool never prints secrets in the first place. Tokens that short are refused outright (token_problem).
    """

    def __init__(self, secrets: Sequence[str]) -> None:
        # Longest first, so that a token containing another one is replaced whole.
        kept = {secret for secret in secrets if len(secret) >= SCRUB_MIN_LENGTH}
        self._secrets = sorted(kept, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text
