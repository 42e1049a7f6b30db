"""Injected faults: what a proxy, a load balancer or a flaky network in front of Intercom does.

Faults are judged before anything else (Intercom never sees the request). Latencies add up; of the other
faults matching a request, the first configured one wins, and only the faults applied are counted against
their `times`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus

from validator.sandbox.config import FaultConfig, FaultKind
from validator.sandbox.wire import Answer, FaultAction, error

_KNOWN_STATUSES = frozenset(s.value for s in HTTPStatus)
_PROXY_ERROR_PAGE = (
    "<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@dataclass
class _FaultState:
    fault: FaultConfig
    remaining: int | None


class Faults:
    """The faults in force and how many requests each still applies to. Thread-safe."""

    def __init__(self, faults: Iterable[FaultConfig] = ()) -> None:
        self._lock = threading.Lock()
        self._states = [_FaultState(f, f.times) for f in faults]

    def add(self, fault: FaultConfig) -> None:
        with self._lock:
            self._states.append(_FaultState(fault, fault.times))

    def take(self, route_key: str, workspace: str | None = None) -> tuple[float, FaultConfig | None]:
        """Consume the faults matching this request: (total delay in seconds, the fault to enact).

        `workspace` is the id_code of the workspace the request's token belongs to (None: no known token);
        a fault limited to a workspace matches only its requests."""
        delay_ms = 0
        chosen: FaultConfig | None = None
        with self._lock:
            for state in self._states:
                fault = state.fault
                if fault.route not in ("*", route_key) or state.remaining == 0:
                    continue
                if fault.workspace is not None and fault.workspace != workspace:
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


def replacement(fault: FaultConfig | None) -> Answer | None:
    """The answer a fault gives instead of the sandbox's own, or None when the sandbox answers itself."""
    if fault is None:
        return None
    if fault.kind == FaultKind.DROP:
        return Answer(0, None)
    if fault.kind == FaultKind.STATUS:
        return error(fault.status, "server_error", "Server error")
    if fault.kind == FaultKind.HTML:
        phrase = HTTPStatus(fault.status).phrase if fault.status in _KNOWN_STATUSES else "Error"
        page = _PROXY_ERROR_PAGE.format(status=fault.status, phrase=phrase).encode()
        return Answer(fault.status, None, content_type="text/html", raw=page)
    return None


def delivery(fault: FaultConfig | None) -> tuple[FaultAction | None, float]:
    """What the adapter must do to the connection: (action, seconds to trickle the body over)."""
    if fault is None:
        return None, 0.0
    if fault.kind == FaultKind.DROP:
        return FaultAction.DROP, 0.0
    if fault.kind == FaultKind.TRUNCATE:
        return FaultAction.TRUNCATE, 0.0
    if fault.kind == FaultKind.SLOW_BODY:
        return FaultAction.SLOW_BODY, fault.ms / 1000
    return None, 0.0
