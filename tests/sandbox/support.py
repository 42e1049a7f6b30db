"""Small helpers shared by the sandbox tests."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx

from validator.sandbox import Sandbox, SandboxConfig, SandboxTransport, TokenConfig, default_config
from validator.sandbox.permissions import Label

BASE_URL = "https://api.intercom.io"
FULL = "sandbox-full-access-0001"
NO_WRITE_TAGS = "sandbox-no-write-tags-0002"
REVOKED = "sandbox-revoked-0003"
EU_FULL = "sandbox-eu-full-access-0004"
AU_FULL = "sandbox-au-full-access-0005"
ACME, ACME_ADMIN = "abc12xyz", "991267459"


def client_for(sandbox: Sandbox, token: str | None = FULL, **headers: str) -> httpx.Client:
    """An httpx client wired to `sandbox` in process, sending `token` as a bearer token."""
    sent = dict(headers)
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    return httpx.Client(transport=SandboxTransport(sandbox), base_url=BASE_URL, headers=sent)


def with_tokens(*tokens: TokenConfig, config: SandboxConfig | None = None, **changes: Any) -> SandboxConfig:
    """The default config plus `tokens`, with other top-level fields replaced by `changes`."""
    base = config or default_config()
    return dataclasses.replace(base, tokens=(*base.tokens, *tokens), **changes)


def token(value: str, *labels: Label, workspace: str = ACME) -> TokenConfig:
    return TokenConfig(value=value, workspace=workspace, admin=ACME_ADMIN, permissions=frozenset(labels))


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["code"]
    return code
