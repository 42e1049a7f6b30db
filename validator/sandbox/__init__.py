"""The scope-aware Intercom sandbox: the stand-in for Intercom in every test and in the demo.

    from validator.sandbox import Sandbox, SandboxTransport, serve

    sandbox = Sandbox()                                    # default.yaml
    client = httpx.Client(transport=SandboxTransport(sandbox), base_url="https://api.intercom.io")
    with serve(sandbox) as base_url: ...                   # a real server on 127.0.0.1

Only light modules are imported here; `transport` (httpx) and `server` load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from validator.sandbox.app import Sandbox, live_sandboxes
from validator.sandbox.config import (
    FaultConfig,
    FaultKind,
    RateLimitConfig,
    SandboxConfig,
    SandboxConfigError,
    TokenConfig,
    default_config,
    load_config,
)
from validator.sandbox.log import LogEntry, RequestLog
from validator.sandbox.permissions import Label
from validator.sandbox.wire import FaultAction, SandboxRequest, SandboxResponse

if TYPE_CHECKING:
    from validator.sandbox.server import ServedSandbox, serve
    from validator.sandbox.transport import SandboxTransport

__all__ = [
    "FaultAction",
    "FaultConfig",
    "FaultKind",
    "Label",
    "LogEntry",
    "RateLimitConfig",
    "RequestLog",
    "Sandbox",
    "SandboxConfig",
    "SandboxConfigError",
    "SandboxRequest",
    "SandboxResponse",
    "SandboxTransport",
    "ServedSandbox",
    "TokenConfig",
    "default_config",
    "live_sandboxes",
    "load_config",
    "serve",
]


def __getattr__(name: str) -> Any:
    if name == "SandboxTransport":
        from validator.sandbox.transport import SandboxTransport

        return SandboxTransport
    if name in ("serve", "ServedSandbox"):
        from validator.sandbox import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
