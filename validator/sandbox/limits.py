"""Rate limits (API-NOTES §6): requests per workspace ("app") per window, and the headers that say so."""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable

from validator.sandbox.config import RateLimitConfig
from validator.sandbox.wire import Answer, error

Headers = tuple[tuple[str, str], ...]


class RateLimiter:
    """Counts requests per workspace in fixed windows aligned to the clock. Thread-safe."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._windows: dict[str, tuple[int, int]] = {}  # workspace → (window start, requests counted)

    def window_start(self, limit: RateLimitConfig) -> int:
        window = limit.window_seconds
        return int(self._clock() // window * window)

    def count(self, workspace_id: str, limit: RateLimitConfig) -> tuple[bool, int, Headers]:
        """Count one request against the workspace's window: (allowed, reset time, X-RateLimit-* headers)."""
        start = self.window_start(limit)
        with self._lock:
            window_start, used = self._windows.get(workspace_id, (start, 0))
            if window_start != start:
                used = 0
            allowed = used < limit.limit
            if allowed:
                used += 1
            self._windows[workspace_id] = (start, used)
        reset = start + limit.window_seconds
        return allowed, reset, headers(limit.limit - used, reset, limit.limit)

    def retry_after(self, reset: int) -> tuple[str, str]:
        return ("Retry-After", str(max(1, math.ceil(reset - self._clock()))))

    def injected(self, limit: RateLimitConfig, reset_in_s: int | None, *, authenticated: bool) -> Answer:
        """The 429 of a rate_limit fault; with headers only for valid credentials, like a real one."""
        answer = rate_limited(limit)
        if not authenticated:
            return answer
        reset = self.window_start(limit) + limit.window_seconds
        if reset_in_s is not None:
            reset = int(self._clock()) + reset_in_s
        extra = (*headers(0, reset, limit.limit), self.retry_after(reset))
        return dataclasses.replace(answer, headers=(*extra, *answer.headers))


def headers(remaining: int, reset: int, limit: int) -> Headers:
    return (
        ("X-RateLimit-Limit", str(limit)),
        ("X-RateLimit-Remaining", str(max(0, remaining))),
        ("X-RateLimit-Reset", str(reset)),
    )


def rate_limited(limit: RateLimitConfig) -> Answer:
    return error(
        429, "rate_limit_exceeded", f"Exceeded rate limit of {limit.limit} in {limit.window_seconds}_seconds"
    )
