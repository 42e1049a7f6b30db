"""Everything the tool does with a token's value: check that it can be one, read it, keep it out of output.

A token only ever comes from an environment variable or standard input; its value never appears in output,
reports or errors. `Scrubber` is the last line of defence for that rule, not the first.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import TextIO

from validator.errors import ExitCode, ValidatorError

MIN_TOKEN_LENGTH = 16  # Intercom tokens are about 60 characters; anything this short is a wiring mistake
MAX_TOKEN_LENGTH = 4096
# Intercom tokens are base64 ("dG9rOj…", API-NOTES §1); other URL-safe characters are allowed for proxies and
# the sandbox. Anything else (spaces, quotes, markup, control characters) would not survive an HTTP header
# intact, and its escaped forms in JSON or XML would slip past the scrubber.
_TOKEN_CHARACTERS = re.compile(r"[A-Za-z0-9+/=_.:~-]+")
REDACTED = "[REDACTED]"


class TokenInputError(ValidatorError, ValueError):
    """No usable token was given; the message never repeats the value. Exit code 2."""

    exit_code = ExitCode.USAGE


def token_problem(token: str) -> str | None:
    """Why `token` cannot be an Intercom token, in words that never repeat it; None when it may be one.

    Refusing short values also keeps the output scrubber meaningful: replacing a one-letter "token"
    everywhere would mangle every report.
    """
    looks_like = _what_it_looks_like(token)
    if looks_like is not None:
        return looks_like
    if not MIN_TOKEN_LENGTH <= len(token) <= MAX_TOKEN_LENGTH:
        return f"it is {len(token)} characters long (expected {MIN_TOKEN_LENGTH} to {MAX_TOKEN_LENGTH})"
    if not _TOKEN_CHARACTERS.fullmatch(token):
        return "it contains spaces, control, non-ASCII or other characters no Intercom token has"
    return None


def _what_it_looks_like(value: str) -> str | None:
    """The usual wiring mistakes, named without repeating the value."""
    if value[:7].lower() == "bearer ":
        return "it starts with 'Bearer ' (an Authorization header); the secret must hold the token alone"
    if value and value[0] in "{[":
        return "it looks like JSON (it starts with '" + value[0] + "'); the secret must hold the token alone"
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return "it is wrapped in quotes; the secret must hold the token without them"
    if any(character in "\r\n" for character in value):
        return "it spans several lines; the secret must hold the token alone, on one line"
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
# A run of this many characters of a secret counts as the secret: a server that echoes the token into a name
# or an error message must not get a recognisable piece of it into a report, however its text is cut.
FRAGMENT_LENGTH = 12
_HALF = FRAGMENT_LENGTH // 2


def fold(text: str) -> str:
    """`text` lower-cased character by character, keeping its length, so that positions still line up.

    Case is folded because a report may lower-case server text (regions); a character whose lower case is
    longer than one character (İ) stays as it is. The Kelvin sign becomes "k" here, as it does in a report.
    """
    lowered = text.lower()
    if len(lowered) == len(text):  # no character grew (lower case never shrinks one): positions line up
        return lowered
    return "".join(lower if len(lower := character.lower()) == 1 else character for character in text)


class Scrubber:
    """Replaces every known secret value, and every run of FRAGMENT_LENGTH or more of its characters (in any
    case), in text that is about to leave the process.

    Values shorter than SCRUB_MIN_LENGTH are not replaced: they cannot be told apart from ordinary words, and
    the tool never prints secrets in the first place. Tokens that short are refused outright (token_problem).
    Secrets shorter than FRAGMENT_LENGTH are replaced only whole and exactly.

    Finding fragments takes time linear in the text: every FRAGMENT_LENGTH-character window of a fragment
    contains an aligned block of half that length, so only blocks found in a secret are looked at closely.
    """

    def __init__(self, secrets: Sequence[str]) -> None:
        kept = {secret for secret in secrets if len(secret) >= SCRUB_MIN_LENGTH}
        # Longest first, so that a short secret containing another one is replaced whole.
        self._exact = sorted(
            (secret for secret in kept if len(secret) < FRAGMENT_LENGTH), key=len, reverse=True
        )
        self._windows: set[str] = set()
        self._blocks: set[str] = set()
        for secret in kept:
            if len(secret) < FRAGMENT_LENGTH:
                continue
            folded = fold(secret)
            for start in range(len(folded) - FRAGMENT_LENGTH + 1):
                self._windows.add(folded[start : start + FRAGMENT_LENGTH])
            for start in range(len(folded) - _HALF + 1):
                self._blocks.add(folded[start : start + _HALF])

    def __bool__(self) -> bool:
        return bool(self._exact or self._windows)

    def __call__(self, text: str) -> str:
        if self._windows and len(text) >= FRAGMENT_LENGTH:
            text = self._replace_fragments(text)
        for secret in self._exact:
            text = text.replace(secret, REDACTED)
        return text

    def _replace_fragments(self, text: str) -> str:
        # Most server text has nothing encoded: it is searched as it stands, with no map of positions.
        mapped = _decoded(text) if _MAY_BE_ENCODED.search(text) else None
        folded = fold(mapped[0] if mapped is not None else text)
        spans: list[list[int]] = []  # merged [start, end) of every window found, in order
        for block in range(0, len(folded) - _HALF + 1, _HALF):
            if folded[block : block + _HALF] not in self._blocks:
                continue
            # The windows that contain this block start at most _HALF characters before it.
            for start in range(max(0, block - _HALF), min(block, len(folded) - FRAGMENT_LENGTH) + 1):
                if folded[start : start + FRAGMENT_LENGTH] in self._windows:
                    end = start + FRAGMENT_LENGTH
                    if spans and start <= spans[-1][1]:
                        spans[-1][1] = max(spans[-1][1], end)
                    else:
                        spans.append([start, end])
        if not spans:
            return text
        pieces: list[str] = []
        done = 0
        for start, end in spans:
            if mapped is not None:  # back to positions in `text`
                start, end = mapped[1][start], mapped[2][end - 1]
            pieces += [text[done:start], REDACTED]
            done = end
        pieces.append(text[done:])
        return "".join(pieces)


# What a token can be written as besides itself, in text that passed through an encoder: percent-encoding
# (`%2B`), HTML or XML character references (`&#43;`, `&#x2b;`, `&plus;`) and backslash escapes (Markdown
# escapes `_` and `~`). Each is looked through when searching for a token's characters.
_ENCODED = re.compile(
    r"%([0-9A-Fa-f]{2})|&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?|\\"
)


_MAY_BE_ENCODED = re.compile(r"[%&\\]")


def _decoded(text: str) -> tuple[str, list[int], list[int]]:
    """`text` with every encoded character decoded and backslashes dropped, and for each character of that,
    the span [start, end) of `text` it came from, so that what is found can be replaced in `text`.

    The plain runs between encoded characters are copied as slices and their spans as ranges: a report of a
    thousand connectors is megabytes of text, which a loop per character would take seconds to go through.
    """
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    done = 0
    for match in _ENCODED.finditer(text):
        begin, finish = match.span()
        if begin > done:
            pieces.append(text[done:begin])
            starts.extend(range(done, begin))
            ends.extend(range(done + 1, begin + 1))
        done = finish
        piece = match.group()
        if piece == "\\":
            continue
        percent = match.group(1)
        character = chr(int(percent, 16)) if percent is not None else html.unescape(piece)
        if len(character) == 1:
            pieces.append(character)
            starts.append(begin)
            ends.append(finish)
        else:  # not one character (an unknown name): the text as it stands
            pieces.append(piece)
            starts.extend(range(begin, finish))
            ends.extend(range(begin + 1, finish + 1))
    if done < len(text):
        pieces.append(text[done:])
        starts.extend(range(done, len(text)))
        ends.extend(range(done + 1, len(text) + 1))
    return "".join(pieces), starts, ends
