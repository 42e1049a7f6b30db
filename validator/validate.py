"""The `validate` pipeline: connector.yaml files → specs → tokens → checks → advice → one report.

All connectors of a run are checked concurrently over one httpx client (one pool of connections, one TLS
context) and share one bound on requests in flight, which grows with the number of distinct workspaces
(`pacing.in_flight_bound`). Each connector has its own `IntercomClient` (its own token and host);
identical requests (same token, host, version and probe: connector files sharing a token) are sent once and
shared (`validator.sharing`); connectors of one workspace, as `/me` names it, share a rate-limit gate; and
connectors of one API host share its circuit breaker: once the host stops answering, nothing more is sent
to it in this run.
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
from validator.connections import http_client
from validator.intercom import Answer, Exchange, IntercomClient, host_of
from validator.model import ConnectorSpec, Position, TokenStatus, utc_today
from validator.pacing import (
    PER_WORKSPACE_IN_FLIGHT,
    HostBreaker,
    RateGates,
    RetryPolicy,
    SlowHostNotice,
    Timeouts,
    in_flight_bound,
)
from validator.policy import PolicySettings, effective_spec, judge
from validator.report import ConnectorResult, Report, TokenCheck
from validator.sharing import SharedRequests
from validator.spec import SpecError, SpecFileError, SpecProblem, load_spec
from validator.tokens import token_problem


@dataclass(frozen=True)
class RunOptions:
    api_url: str | None = None  # replaces the regional host (already checked by `check_api_url`)
    concurrency: int | None = None  # caps the bound on requests in flight; None: `in_flight_bound`'s own
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
    settings = options.policy or PolicySettings(today=utc_today())
    # `--excess` applied first, so that the checker probes what the run will judge.
    prepared = [
        replace(item, spec=effective_spec(item.spec, settings)) if isinstance(item, Ready) else item
        for item in prepared
    ]
    ready = [item for item in prepared if isinstance(item, Ready)]
    base_urls = {id(item): base_url_for(item.spec, catalog, options.api_url) for item in ready}
    workspaces = {(base_urls[id(item)], item.spec.workspace.id) for item in ready}
    bound = in_flight_bound(len(workspaces), options.concurrency)
    limit = asyncio.Semaphore(bound)
    checker = Checker(catalog, options.progress, survey=settings.survey)
    gates = RateGates()
    breakers: dict[str, HostBreaker] = {}
    shared: SharedRequests[Answer] = SharedRequests()
    transport = options.transport_factory() if options.transport_factory else None
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

    async with http_client(transport=transport, max_connections=bound) as http:

        def client_for(item: Ready) -> IntercomClient:
            base_url = base_urls[id(item)]
            host = host_of(base_url)
            return IntercomClient(
                base_url,
                item.token,
                catalog.api_version_for(item.spec),
                timeouts=options.timeouts,
                retry=options.retry,
                # The declared workspace's gate until /me names the workspace (`check_one`).
                gate=gates.for_workspace(base_url, item.spec.workspace.id),
                limit=limit,
                breaker=breakers.setdefault(host, HostBreaker.for_timeouts(host, options.timeouts)),
                slow_notice=slow_notice(host),
                on_exchange=observer(item.spec.path),
                http=http,
                shared=shared,
            )

        # Every client is made (and joins the memo of shared requests) before any is checked, so that a
        # connector done early does not let go of answers another one with the same token will ask for.
        clients = {id(item): client_for(item) for item in ready}

        # A quarter of the bound in connectors in progress at once: once its /me answered a connector has a
        # dozen probes or more in flight, so that keeps the bound busy, and what waits for its turn is a
        # connector not yet begun (a few KiB), not its fifteen requests queued (memory stays flat in the
        # number of files: bench/RESULTS.md).
        in_progress = asyncio.Semaphore(max(PER_WORKSPACE_IN_FLIGHT, bound // 4))

        async def one(item: Prepared) -> ConnectorResult:
            if isinstance(item, Stopped):
                return item.result
            async with in_progress, clients[id(item)] as client:
                started = time.perf_counter()  # its own time, not its wait for a turn
                checked = await check_one(checker, item.spec, client, item.token_source, gates)
                elapsed = item.load_seconds + time.perf_counter() - started
            return replace(judge(checked, item.spec, catalog, settings), elapsed=elapsed)  # policy, advice

        results = await asyncio.gather(*(one(item) for item in prepared))
    return Report(tool_version=__version__, connectors=tuple(results))


async def check_one(
    checker: Checker, spec: ConnectorSpec, client: IntercomClient, token_source: str, gates: RateGates
) -> ConnectorResult:
    """`/me`, then the probes paced by the gate of the workspace `/me` named (one rate limit per workspace,
    API-NOTES §6); until `/me` answers, and when it names none, the declared workspace's gate."""
    identified = await checker.identify(client, token_source)
    if identified.identity is not None and identified.identity.sent_id is not None:
        client.use_gate(gates.for_workspace(client.base_url, identified.identity.sent_id))
    return await checker.probe(spec, client, identified)


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


__all__ = ["Prepared", "Ready", "RunOptions", "Stopped", "check_one", "prepare_all", "run_checks", "validate"]
