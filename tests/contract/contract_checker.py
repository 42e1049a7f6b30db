"""Check one request/answer exchange against Intercom's OpenAPI description of the version it claims.

The policy (which answers must be documented per route, which cross-cutting answers are allowed) is
written in `test_sandbox_contract.py`, next to its allowlist; this module only applies it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from contract.openapi_spec import (
    ERROR_SCHEMA_REF,
    body_problems,
    find_operation,
    load_description,
    response_schema_pointer,
)

# The one route outside every 2.x description (API-NOTES §5): checked for its legacy shape instead.
LEGACY_ROUTES = frozenset({("GET", "/counts")})


@dataclass(frozen=True)
class Exchange:
    """What was asked (method, concrete path, claimed version) and what came back."""

    version: str
    method: str
    path: str
    status: int
    body: bytes
    content_type: str = "application/json"

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error_code(self) -> str | None:
        try:
            errors = self.json().get("errors") or [{}]
        except (ValueError, AttributeError):
            return None
        code = errors[0].get("code") if isinstance(errors[0], dict) else None
        return code if isinstance(code, str) else None


@dataclass(frozen=True)
class Allowed:
    """A cross-cutting answer Intercom documents globally rather than per route.

    `routes` limits it to some operations ("GET /contacts/{contact_id}", as templated in the description);
    None means any route. `json_body` False is for proxy pages that are not Intercom's JSON at all.
    """

    status: int | range
    codes: frozenset[str]
    reason: str
    routes: frozenset[str] | None = None
    json_body: bool = True

    def covers(self, exchange: Exchange, operation_key: str) -> bool:
        status_ok = (
            exchange.status in self.status
            if isinstance(self.status, range)
            else exchange.status == self.status
        )
        if not status_ok or (self.routes is not None and operation_key not in self.routes):
            return False
        if not self.json_body:
            return exchange.content_type.startswith("text/html")
        return exchange.error_code in self.codes


def contract_problems(exchange: Exchange, allowlist: Iterable[Allowed]) -> list[str]:
    """Everything about `exchange` that its version's description does not allow; empty when it conforms."""
    where = f"{exchange.method} {exchange.path} → {exchange.status} (Intercom-Version {exchange.version})"
    if (exchange.method, exchange.path.split("?")[0]) in LEGACY_ROUTES:
        if exchange.status >= 400:
            # No per-route documentation exists: any error must be an Intercom error or an allowed page.
            page = any(a.covers(exchange, "GET /counts") and not a.json_body for a in allowlist)
            return [] if page else _body_problems(exchange, where, ERROR_SCHEMA_REF)
        return _legacy_counts_problems(exchange, where)

    description = load_description(exchange.version)
    found = find_operation(description, exchange.method, exchange.path)
    if found is None:
        # An operation the claimed version does not have (a newer route, API-NOTES §8) may only give an
        # answer that is allowed on every route (unknown version, token errors, faults), never its own.
        key = f"{exchange.method} {exchange.path.split('?')[0]}"
        for allowed in allowlist:
            if allowed.routes is None and allowed.covers(exchange, key):
                return _body_problems(exchange, where, ERROR_SCHEMA_REF if allowed.json_body else None)
        return [f"{where}: no such operation in the {exchange.version} description"]
    template, operation = found
    operation_key = f"{exchange.method} {template}"

    if str(exchange.status) in operation["responses"]:
        pointer = response_schema_pointer(exchange.version, template, exchange.method, exchange.status)
        if pointer is None:
            # Documented without a schema (e.g. 400 of PUT /admins/{id}/away): an error must still be one.
            pointer = ERROR_SCHEMA_REF if exchange.status >= 400 else None
        return _body_problems(exchange, where, pointer)

    for allowed in allowlist:
        if allowed.covers(exchange, operation_key):
            return _body_problems(exchange, where, ERROR_SCHEMA_REF if allowed.json_body else None)
    return [
        f"{where}: status {exchange.status} ({exchange.error_code or 'no error code'}) is neither documented "
        f"for {operation_key} nor allowlisted"
    ]


def _body_problems(exchange: Exchange, where: str, pointer: str | None) -> list[str]:
    if pointer is None:
        return []
    try:
        body = exchange.json()
    except ValueError:
        return [f"{where}: body is not JSON"]
    return [f"{where}: {problem}" for problem in body_problems(exchange.version, pointer, body)]


def _legacy_counts_problems(exchange: Exchange, where: str) -> list[str]:
    """`GET /counts` as the legacy references (≤ 2.4) show it; errors must still be Intercom errors."""
    try:
        body = exchange.json()
    except ValueError:
        return [f"{where}: body is not JSON"]
    problems = []
    if body.get("type") != "count.hash":
        problems.append(f"{where}: type is {body.get('type')!r}, expected 'count.hash'")
    for key in ("company", "user"):
        count = body.get(key, {}).get("count") if isinstance(body.get(key), dict) else None
        if not isinstance(count, int) or isinstance(count, bool):
            problems.append(f"{where}: {key}.count is not an integer")
    return problems
