"""How the client paces its requests: timeouts, bounded retries, rate-limit windows, a breaker for a host
that has stopped answering, and the bound on requests in flight.

Every client of a run that talks to one workspace shares its `RateGate` (Intercom counts per app and
workspace, API-NOTES §6), found in the run's `RateGates` by the workspace `/me` names, and every client
that talks to one host shares its `HostBreaker` and its `SlowHostNotice`.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: at most `attempts` tries, and no request waits more than `max_total_wait` seconds.

    Requests run concurrently, so the budget of each one also bounds the wall time a run spends waiting.
    """

    attempts: int = 3
    backoff_base: float = 0.5  # first wait after a 5xx or connection error; doubles each time
    max_single_wait: float = 10.0
    max_total_wait: float = 30.0
    jitter: float = 0.25  # up to this many seconds added to every wait, so parallel clients spread out


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 15.0

    def as_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(self.read, connect=self.connect)


class RateGate:
    """Holds requests back while an app's rate-limit window is spent (X-RateLimit-Remaining: 0).

    Intercom counts per app and per workspace (API-NOTES §6), so clients that share a token share a gate.
    """

    def __init__(self) -> None:
        self._resume_at = 0.0

    def delay(self) -> float:
        """Seconds until the spent window resets; 0 when requests may go now."""
        return max(0.0, self._resume_at - time.time())

    def observe(self, headers: httpx.Headers) -> None:
        remaining, reset = headers.get("x-ratelimit-remaining"), headers.get("x-ratelimit-reset")
        if remaining is None or reset is None:
            return
        try:
            if int(remaining) <= 0:
                self._resume_at = max(self._resume_at, float(reset))
        except ValueError:
            return


class RateGates:
    """The run's rate-limit gates, one per API host and workspace.

    A client starts on the gate of the workspace its connector.yaml declares and moves to the gate of the
    workspace `/me` names once it has answered: two files that declare different workspaces for tokens
    of one workspace share that workspace's window, which is the one Intercom counts.
    """

    def __init__(self) -> None:
        self._gates: dict[tuple[str, str], RateGate] = {}

    def for_workspace(self, base_url: str, workspace_id: str) -> RateGate:
        return self._gates.setdefault((base_url, workspace_id), RateGate())


# The bound on requests in flight grows with the number of distinct workspaces a run talks to, because
# Intercom's limits are per workspace and per app (API-NOTES §6), not per client: 40 for each workspace (one
# connector's `/me` and then all its probes, route-miss controls and help-desk checks at once, the two round
# trips a check needs: 33 after `/me` for a connector declaring every permission of the catalog, 20 for the
# example's 13; tests/unit/test_shared_run.py checks it), never more than MAX_IN_FLIGHT for the whole run
# (sockets, and the server's share of them), and never more than `--concurrency` when that is given. It was
# 16 until the controls and help-desk checks made a connector's second round larger than that (a third
# round trip for every check).
PER_WORKSPACE_IN_FLIGHT = 40
MAX_IN_FLIGHT = 256


def in_flight_bound(workspaces: int, cap: int | None = None) -> int:
    """Requests in flight at most for a run that talks to `workspaces` distinct workspaces.

    PER_WORKSPACE_IN_FLIGHT per workspace, at most MAX_IN_FLIGHT, and at most `cap` (`--concurrency`) when
    given.
    """
    bound = min(MAX_IN_FLIGHT, PER_WORKSPACE_IN_FLIGHT * max(1, workspaces))
    return max(1, min(bound, cap) if cap is not None else bound)


class HostBreaker:
    """Stops sending to an API host that has stopped answering, for the rest of the run (a circuit breaker).

    Every client of a run that talks to the host shares one. It opens when `threshold` attempts in a row came
    back without an HTTP answer (timeouts, refused or dropped connections) *and* those attempts went
    unanswered for `quiet` seconds (most of one timeout), counted from the start of the earliest of them or
    from the last answer, whichever is later. Both are needed: a burst of dropped keep-alive connections on
    a healthy host (after a rate-limit pause, say) is over in a moment, and one slow request on a healthy
    host has other answers arriving around it. Any HTTP answer, 5xx and 429 included, shows the host is
    alive and resets the count. Once open it stays open: requests waiting for a slot or a retry come back
    at once without being sent, and attempts in flight are cut, so a run against a host that accepts
    connections and never answers ends about one timeout after it started, whatever the number of
    connectors.
    """

    def __init__(
        self, host: str, *, quiet: float, threshold: int = 3, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.host = host
        self._quiet = quiet
        self._threshold = threshold
        self._clock = clock
        self._last_answer: float | None = None
        self._streak_start: float | None = None  # when the earliest attempt of the current failures began
        self._failures = 0
        self._reason: str | None = None
        self._in_flight: set[asyncio.Timeout] = set()

    @classmethod
    def for_timeouts(cls, host: str, timeouts: Timeouts) -> HostBreaker:
        return cls(host, quiet=0.8 * timeouts.read)

    @property
    def reason(self) -> str | None:
        """Why nothing more is sent to the host; None while it is closed."""
        return self._reason

    def now(self) -> float:
        return self._clock()

    def answered(self) -> None:
        self._failures = 0
        self._streak_start = None
        self._last_answer = self._clock()

    def failed(self, started: float) -> None:
        """An attempt that began at `started` (`now()`) ended without an HTTP answer."""
        self._failures += 1
        self._streak_start = started if self._streak_start is None else min(self._streak_start, started)
        since = (
            self._streak_start if self._last_answer is None else max(self._streak_start, self._last_answer)
        )
        quiet = self._clock() - since
        if self._reason is not None or self._failures < self._threshold or quiet < self._quiet:
            return
        self._reason = (
            f"the API host {self.host} stopped answering ({self._failures} attempts in a row without an "
            f"answer, none for {quiet:.0f} s)"
        )
        loop = asyncio.get_running_loop()
        for scope in self._in_flight:
            if not scope.expired():  # one whose own deadline just passed is ending already
                scope.reschedule(loop.time())  # cut now: the attempt ends with TimeoutError

    @contextmanager
    def watching(self, scope: asyncio.Timeout) -> Iterator[None]:
        """Lets an opening breaker cut the attempt that `scope` bounds."""
        self._in_flight.add(scope)
        try:
            yield
        finally:
            self._in_flight.discard(scope)


SLOW_HOST_AFTER = 5.0  # seconds without an answer before the run says what it is waiting for


class SlowHostNotice:
    """Says once per run and host that an attempt has had no answer for `after` seconds.

    A host that accepts connections and never answers would otherwise leave a CI log silent for the
    whole timeout, retries included: `notify(host, after)` is called the first time an attempt to the host
    is still without an answer `after` seconds after it was sent, and never again for that host.
    """

    def __init__(self, host: str, notify: Callable[[str, float], None], *, after: float = SLOW_HOST_AFTER):
        self.host = host
        self._notify = notify
        self._after = after
        self._told = False

    @contextmanager
    def watching(self) -> Iterator[None]:
        """Bounds one attempt: if it is still running `after` seconds on, the notice is given."""
        if self._told:
            yield
            return
        handle = asyncio.get_running_loop().call_later(self._after, self._tell)
        try:
            yield
        finally:
            handle.cancel()

    def _tell(self) -> None:
        if not self._told:
            self._told = True
            self._notify(self.host, self._after)


def hinted_wait(headers: httpx.Headers) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or `X-RateLimit-Reset` (Unix seconds)."""
    retry_after = headers.get("retry-after")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:
                moment = email.utils.parsedate_to_datetime(retry_after)
                return max(0.0, moment.timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    reset = headers.get("x-ratelimit-reset")
    if reset:
        try:
            return max(0.0, float(reset) - time.time())
        except ValueError:
            return None
    return None
