"""The `validate` pipeline: connector.yaml files → specs → tokens → checks → advice → one report.

All connectors of a run are checked concurrently and share one bound on requests in flight; each has its own
client (its own token and host), connectors of one workspace share a rate-limit gate, and connectors of one
API host share its circuit breaker: once the host stops answering, nothing more is sent to it in this run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from validator import __version__
from validator.catalog import Catalog, load_catalog
from validator.checker import Checker, ProgressHook
from validator.intercom import DEFAULT_IN_FLIGHT, Exchange, IntercomClient, host_of
from validator.model import ConnectorSpec, Position, TokenStatus, utc_today
from validator.pacing import HostBreaker, RateGate, RetryPolicy, SlowHostNotice, Timeouts
from validator.policy import PolicySettings, effective_spec, judge
from validator.report import ConnectorResult, Report, TokenCheck
from validator.spec import SpecError, SpecFileError, SpecProblem, load_spec
from validator.tokens import token_problem

DEFAULT_CONCURRENCY = DEFAULT_IN_FLIGHT


@dataclass(frozen=True)
class RunOptions:
    api_url: str | None = None  # replaces the regional host (already checked by `check_api_url`)
    concurrency: int = DEFAULT_CONCURRENCY
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None  # tests: in-process sandbox
    progress: ProgressHook | None = None
    policy: PolicySettings | None = None  # None: connector.yaml's policy alone, judged on today's UTC date
    # Called with the connector's path and how each attempt of a request ended (`--verbose`).
    on_exchange: Callable[[str, Exchange], None] | None = None
    # Called once per API host with the seconds an attempt to it has gone without an answer.
    on_slow_host: Callable[[str, float], None] | None = None


@dataclass(frozen=True)
class Ready:
    """A connector to check, with its token and where the token came from (a name, never the value)."""

    spec: ConnectorSpec
    token: str
    token_source: str
    load_seconds: float = 0.0  # how long reading and checking connector.yaml took


@dataclass(frozen=True)
class Stopped:
    """A connector that could not be checked: its result is already known, and no request is sent."""

    result: ConnectorResult


Prepared = Ready | Stopped


def prepare(
    path: Path, environ: Mapping[str, str], stdin_token: str | None, name: str | None = None
) -> Prepared:
    """Load one connector.yaml and find its token; problems become a result instead of an exception.

    `name` is what reports call the file (default: `path` as given)."""
    started = time.perf_counter()
    try:
        spec = load_spec(path, name)
    except SpecFileError as error:
        shown = f"{name}: cannot read: {error.reason}" if name else str(error)
        return Stopped(replace(_stopped(name or str(path), shown), elapsed=time.perf_counter() - started))
    except SpecError as error:
        first = error.problems[0]
        stopped = _stopped(name or str(path), first.format(), first.position, error.problems)
        return Stopped(replace(stopped, elapsed=time.perf_counter() - started))
    load_seconds = time.perf_counter() - started
    if stdin_token is not None:
        token: str | None = stdin_token
        source = "standard input"
    else:
        token = environ.get(spec.auth.token_env, "").strip() or None
        source = spec.auth.token_env
    message: str | None = None
    status = TokenStatus.MISSING
    if token is None:
        message = (
            f"the environment variable {spec.auth.token_env} (auth.token_env) is not set or empty; "
            "set it to the Intercom token, e.g. from a CI secret, or pass the token with --token-stdin"
        )
    elif (problem := token_problem(token)) is not None:
        status = TokenStatus.MALFORMED
        message = f"the token from {source} is not usable: {problem}; check the secret"
    if message is not None:
        result = ConnectorResult(
            path=spec.path,
            name=spec.name,
            auth_mode=spec.auth.mode,
            token=TokenCheck(status, env=source, message=message),
            workspace=None,
            auth_position=spec.position_of("$.auth.token_env") or spec.position_of("$.auth"),
            not_checked=spec.permissions,
            elapsed=load_seconds,
        )
        return Stopped(result)
    assert token is not None
    return Ready(spec, token, source, load_seconds)


def _stopped(
    path: str, message: str, position: Position | None = None, problems: tuple[SpecProblem, ...] = ()
) -> ConnectorResult:
    return ConnectorResult(
        path=path,
        name=None,
        auth_mode=None,
        token=TokenCheck(TokenStatus.UNKNOWN),
        workspace=None,
        error=message,
        error_position=position,
        problems=problems,
    )


def base_url_for(spec: ConnectorSpec, catalog: Catalog, api_url: str | None) -> str:
    return api_url if api_url is not None else catalog.hosts[spec.workspace.region]


async def run_checks(
    prepared: Sequence[Prepared], options: RunOptions, catalog: Catalog | None = None
) -> Report:
    catalog = catalog or load_catalog()
    limit = asyncio.Semaphore(max(1, options.concurrency))
    settings = options.policy or PolicySettings(today=utc_today())
    checker = Checker(catalog, options.progress, survey=settings.survey)
    gates: dict[tuple[str, str], RateGate] = {}
    breakers: dict[str, HostBreaker] = {}
    notices: dict[str, SlowHostNotice] = {}

    def slow_notice(host: str) -> SlowHostNotice | None:
        if options.on_slow_host is None:
            return None
        return notices.setdefault(host, SlowHostNotice(host, options.on_slow_host))

    def observer(path: str) -> Callable[[Exchange], None] | None:
        on_exchange = options.on_exchange
        if on_exchange is None:
            return None
        return lambda exchange: on_exchange(path, exchange)

    async def one(item: Prepared) -> ConnectorResult:
        if isinstance(item, Stopped):
            return item.result
        spec = effective_spec(item.spec, settings)
        base_url = base_url_for(spec, catalog, options.api_url)
        client = IntercomClient(
            base_url,
            item.token,
            catalog.api_version_for(spec),
            timeouts=options.timeouts,
            retry=options.retry,
            transport=options.transport_factory() if options.transport_factory else None,
            # One gate per workspace: its rate limit is shared by every token that reaches it (API-NOTES §6).
            gate=gates.setdefault((base_url, spec.workspace.id), RateGate()),
            limit=limit,
            breaker=breakers.setdefault(
                host_of(base_url), HostBreaker.for_timeouts(host_of(base_url), options.timeouts)
            ),
            slow_notice=slow_notice(host_of(base_url)),
            on_exchange=observer(spec.path),
        )
        started = time.perf_counter()
        async with client:
            checked = await checker.check(spec, client, item.token_source)
        elapsed = item.load_seconds + time.perf_counter() - started
        return replace(judge(checked, spec, catalog, settings), elapsed=elapsed)  # the policy, then advice

    results = await asyncio.gather(*(one(item) for item in prepared))
    return Report(tool_version=__version__, connectors=tuple(results))


def prepare_all(
    paths: Sequence[Path],
    environ: Mapping[str, str],
    stdin_token: str | None,
    names: Mapping[Path, str] | None = None,
) -> list[Prepared]:
    return [prepare(path, environ, stdin_token, (names or {}).get(path)) for path in paths]


def validate(prepared: Sequence[Prepared], options: RunOptions) -> Report:
    """Check every prepared connector; never raises for bad input, which is part of the report already."""
    return asyncio.run(run_checks(prepared, options))


__all__ = ["Prepared", "Ready", "RunOptions", "Stopped", "prepare_all", "run_checks", "validate"]
