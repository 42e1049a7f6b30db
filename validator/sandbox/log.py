"""The request log: every request a sandbox handled, as received, with every secret masked.

Tests read it to see what the validator sent; the suite fails on any entry flagged `mutation` (a write
that would have changed data, see tests/conftest.py).

Masking costs the same whatever the number of secrets (issue 12): a `Scrubber` compiles its secrets into
one pattern per group, a trie written as a regular expression, so a text is searched once for all of them
instead of once per secret. Every place where a secret starts is found (the longest secret starting there),
and overlapping finds merge into one mask, so a secret inside another, or two sharing characters, never
leave a remainder behind. Compiling 10,000 secrets takes about a
second, so secrets come in groups that change at different rates (configured ones; OAuth codes and issued
tokens), each group compiled once and kept (`_compiled`). A group the regular expression engine cannot
take (secrets nested thousands deep) falls back to searching for each secret in turn.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from validator.sandbox.wire import SandboxRequest

MASK = "***"
# Fields masked by name wherever they appear in a body, whatever their value.
SECRET_FIELDS = frozenset({"client_secret", "code", "token", "access_token", "password"})


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


_Finder = Callable[[str], Iterable[tuple[int, int]]]


def _trie_pattern(secrets: Iterable[str]) -> str:
    """One regular expression matching any of `secrets`, the longest one where several start alike."""
    trie: dict[str, Any] = {}
    for secret in secrets:
        node = trie
        for char in secret:
            node = node.setdefault(char, {})
        node[""] = {}  # a secret ends here

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body  # greedy: the longer secret first

    return build(trie)


@functools.lru_cache(maxsize=16)
def _compiled(secrets: frozenset[str]) -> _Finder:
    """Where the secrets occur in a text: (start, end) spans in order of their start, the longest secret
    at each start; spans may overlap."""
    try:
        pattern = re.compile(_trie_pattern(secrets))
    except (RecursionError, re.error, OverflowError):
        ordered = sorted(secrets, key=len, reverse=True)

        def each(text: str) -> list[tuple[int, int]]:
            found = []
            for secret in ordered:
                start = text.find(secret)
                while start != -1:
                    found.append((start, start + len(secret)))
                    start = text.find(secret, start + 1)
            return sorted(found)

        return each

    def spans(text: str) -> Iterator[tuple[int, int]]:
        # Every place a secret starts, even inside an earlier one: overlapping secrets are all found.
        match = pattern.search(text)
        while match is not None:
            yield match.span()
            match = pattern.search(text, match.start() + 1)

    return spans


class Scrubber:
    """Masks every occurrence of any secret in a text: `Scrubber([group, ...])(text)`.

    Each group is compiled once (see the module docstring). Where occurrences overlap (one secret inside
    another, or two secrets sharing characters) the whole stretch they cover becomes one `MASK`.
    """

    def __init__(self, groups: Iterable[Iterable[str]] = ()) -> None:
        self._finders: list[_Finder] = []
        self._shortest = 0
        for group in groups:
            secrets = frozenset(s for s in group if s)
            if secrets:
                self._finders.append(_compiled(secrets))
                shortest = min(map(len, secrets))
                self._shortest = min(self._shortest, shortest) if self._shortest else shortest

    def __call__(self, text: str) -> str:
        if not self._finders or len(text) < self._shortest:
            return text
        if len(self._finders) == 1:
            spans = list(self._finders[0](text))
        else:
            spans = sorted(span for finder in self._finders for span in finder(text))
        if not spans:
            return text
        pieces, end = [], 0
        merged: list[list[int]] = []
        for start, stop in spans:
            if merged and start < merged[-1][1]:  # overlaps the previous stretch: one mask for both
                merged[-1][1] = max(merged[-1][1], stop)
            else:
                merged.append([start, stop])
        for start, stop in merged:
            pieces.append(text[end:start])
            pieces.append(MASK)
            end = stop
        pieces.append(text[end:])
        return "".join(pieces)


def masked_entry(
    request: SandboxRequest,
    *,
    status: int,
    mutation: bool,
    route: str | None,
    fault: str | None,
    scrubber: Scrubber,
) -> LogEntry:
    """The log entry for `request`: credentials headers masked, every known secret replaced by `MASK`."""

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            return scrubber(value)
        if isinstance(value, dict):
            return {k: MASK if k in SECRET_FIELDS else scrub(v) for k, v in value.items()}
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
    return LogEntry(
        method=request.method,
        path=request.path,
        query={k: tuple(scrub(list(v))) for k, v in request.query.items()},
        headers=headers,
        body=scrub(_readable_body(request.body)),
        status=status,
        mutation=mutation,
        route=route,
        fault=fault,
    )


def _readable_body(raw: bytes) -> Any:
    """The body as JSON, else as a form, else as text; None when empty."""
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        form = parse_qs(text, keep_blank_values=True)
        return {k: v[0] for k, v in form.items()} if form and "=" in text else text
