"""`connector-validator fleet`: the connector's declared permissions checked against every install.

The run is a stream: a reader thread takes lines from `--installs` into a bounded queue; a fixed number of
workers take installs from it, each checking one install at a time exactly as `validate` checks a
connector (`Checker.check` on the spec with the install's workspace), through one shared HTTP client and
one bound on requests in flight; each install's line is written as soon as it is decided, and then only
counters are kept (`Tally`). So memory is flat in the number of installs, and Ctrl-C (or SIGTERM) stops
reading and sending, and the summary of what was decided is still written, with the report files.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any, BinaryIO, TextIO

import httpx

from validator.catalog import Catalog, load_catalog
from validator.checker import Checker
from validator.connections import http_client
from validator.errors import ExitCode, SeveralErrors, UsageError, ValidatorError
from validator.files import (
    StdoutError,
    StreamedReplacement,
    TargetError,
    check_target,
    overwrites_input,
    resolved_target,
)
from validator.fleet.installs import STDIN, Install, Malformed, open_installs, parse_line, read_lines
from validator.fleet.judge import InstallResult, judge, malformed
from validator.fleet.outputs import REPORT_FORMATS, STDOUT_FORMATS, FleetFormat, Tally, head, row, tail
from validator.intercom import IntercomClient, check_api_url, host_of
from validator.model import ConnectorSpec, Workspace, utc_today
from validator.pacing import HostBreaker, RateGate, RetryPolicy, Timeouts
from validator.policy import PolicySettings
from validator.policy import judge as judge_policy
from validator.spec import SpecError, SpecFileError, load_spec
from validator.tokens import Scrubber

DEFAULT_FLEET_CONCURRENCY = 32
PROGRESS_EVERY_S = 0.2


@dataclass(frozen=True)
class FleetRequest:
    spec_path: Path
    installs: str  # a path, or "-" for standard input
    output_format: FleetFormat = FleetFormat.TEXT
    reports: Sequence[str] = ()
    api_url: str | None = None
    concurrency: int = DEFAULT_FLEET_CONCURRENCY
    timeout: float = 15.0
    retry_budget: float = 30.0


class FleetStopped(ValidatorError):
    """A signal stopped the run; the summary of what was decided (and every report) was written."""


class OutputError(ValidatorError):
    exit_code = ExitCode.REPORT_NOT_WRITTEN


def parse_reports(specs: Sequence[str]) -> list[tuple[FleetFormat, Path]]:
    pairs: list[tuple[FleetFormat, Path]] = []
    for spec in specs:
        name, sep, file = spec.partition("=")
        if not sep or not file:
            raise UsageError(f"--report expects FORMAT=FILE, got {spec!r}")
        try:
            fmt = FleetFormat(name.strip())
        except ValueError:
            fmt = None
        if fmt not in REPORT_FORMATS:
            choices = ", ".join(str(member) for member in REPORT_FORMATS)
            raise UsageError(f"fleet --report: unknown format {name.strip()!r} (choose from {choices})")
        assert fmt is not None
        pairs.append((fmt, Path(file)))
    return pairs


def _load(path: Path) -> ConnectorSpec:
    try:
        return load_spec(path)
    except SpecFileError as error:
        raise UsageError(str(error)) from None
    except SpecError as error:
        raise UsageError(error.problems[0].format()) from None


class _Outputs:
    """stdout and the report files, written a piece at a time; failures are collected, never raised mid-run
    (a full disk must not stop the check of the other installs; a closed stdout stops the run)."""

    def __init__(self, main: FleetFormat, stdout: TextIO, files: list[tuple[FleetFormat, Path]]) -> None:
        self.main, self.stdout = main, stdout
        self.files: list[tuple[FleetFormat, StreamedReplacement]] = []
        self.stdout_error: StdoutError | None = None
        try:
            for fmt, path in files:
                self.files.append((fmt, StreamedReplacement(path)))
        except TargetError as error:
            self.discard()
            raise UsageError(str(error)) from None

    def start(self) -> None:
        for fmt, file in self.files:
            file.write(head(fmt))
        self._print(head(self.main))

    def install(self, result: InstallResult, scrub: Scrubber) -> None:
        for fmt, file in self.files:
            file.write(scrub(row(fmt, result)))
        self._print(scrub(row(self.main, result)))

    def finish(self, tally: Tally) -> list[ValidatorError]:
        errors: list[ValidatorError] = []
        for fmt, file in self.files:
            file.write(tail(fmt, tally))
            try:
                file.commit()
            except TargetError as error:
                errors.append(OutputError(str(error)))
        self._print(tail(self.main, tally))
        if self.stdout_error is not None:
            errors.append(self.stdout_error)
        return errors

    def discard(self) -> None:
        for _, file in self.files:
            file.discard()

    def _print(self, text: str) -> None:
        if not text or self.stdout_error is not None:
            return
        try:
            self.stdout.write(text)
            self.stdout.flush()
        except StdoutError as error:
            self.stdout_error = error
        except OSError as error:
            self.stdout_error = StdoutError.of(error)


class _Progress:
    """A self-overwriting status line on a terminal; nothing at all when stderr is a file or a pipe."""

    def __init__(self, stream: TextIO, size: int | None) -> None:
        self.stream, self.size = stream, size
        self.enabled = stream.isatty()
        self.consumed = 0
        self._shown = 0.0

    def show(self, tally: Tally, *, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._shown < PROGRESS_EVERY_S):
            return
        self._shown = now
        if self.size:
            done = min(1.0, self.consumed / self.size)
            bar = "#" * int(done * 20)
            text = f"[{bar:<20}] {done:4.0%} "
        else:
            text = ""
        text += f"{tally.decided} installs decided, {tally.needing_action} need action"
        with contextlib.suppress(OSError, ValueError):
            self.stream.write(f"\r\x1b[2K{text}")
            self.stream.flush()

    def clear(self) -> None:
        if self.enabled:
            with contextlib.suppress(OSError, ValueError):
                self.stream.write("\r\x1b[2K")
                self.stream.flush()


def run_fleet(
    request: FleetRequest,
    *,
    stdin: BinaryIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
    catalog: Catalog | None = None,
) -> ExitCode:
    """Run `fleet` end to end and return the most severe exit code across installs.

    Usage errors (2), an installs file open to others (21) and unwritable report targets are raised before
    anything is read or sent. After the run, report files that could not be written (5) and a failing stdout
    (6, 141) are raised together, once everything that could be written was; a signal raises `FleetStopped`
    (130, 143) after the summary and the reports were written.
    """
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    if request.output_format not in STDOUT_FORMATS:
        raise UsageError(f"fleet --format: choose from {', '.join(str(f) for f in STDOUT_FORMATS)}")
    files = parse_reports(request.reports)
    seen: set[Path] = set()
    inputs = [request.spec_path, *([Path(request.installs)] if request.installs != STDIN else [])]
    for _, path in files:
        if resolved_target(path) in seen:
            raise UsageError(f"{path} is named as the target of two reports")
        replaced = overwrites_input(path, inputs)
        if replaced is not None:
            raise UsageError(f"{path} is an input of this run ({replaced}): a report there would replace it")
        seen.add(resolved_target(path))
        try:
            check_target(path)
        except TargetError as error:
            raise UsageError(str(error)) from None
    api_url = check_api_url(request.api_url) if request.api_url else None
    spec = _load(request.spec_path)
    catalog = catalog or load_catalog()
    source, size = open_installs(request.installs, stdin or sys.stdin.buffer)
    outputs = _Outputs(request.output_format, stdout, files)
    engine = _Engine(
        spec,
        catalog,
        api_url,
        concurrency=request.concurrency,
        timeouts=Timeouts(read=request.timeout),
        retry=RetryPolicy(
            max_total_wait=request.retry_budget, max_single_wait=min(10.0, request.retry_budget)
        ),
        transport_factory=transport_factory,
        outputs=outputs,
        progress=_Progress(stderr, size),
    )
    try:
        outputs.start()
        engine.run(source)
    except BaseException:
        outputs.discard()
        raise
    finally:
        engine.progress.clear()
        if source is not stdin and source is not sys.stdin.buffer:
            with contextlib.suppress(OSError):
                source.close()
    errors = outputs.finish(engine.tally)
    if engine.signal_received is not None:
        terminated = engine.signal_received == signal.SIGTERM
        errors.insert(
            0,
            FleetStopped(
                f"{'terminated' if terminated else 'interrupted'}: stopped after {engine.tally.decided} "
                "installs were decided; the summary and reports cover those",
                ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED,
            ),
        )
    if errors:
        raise SeveralErrors(errors) if len(errors) > 1 else errors[0]
    return engine.tally.exit_code


class _Engine:
    def __init__(
        self,
        spec: ConnectorSpec,
        catalog: Catalog,
        api_url: str | None,
        *,
        concurrency: int,
        timeouts: Timeouts,
        retry: RetryPolicy,
        transport_factory: Callable[[], httpx.AsyncBaseTransport] | None,
        outputs: _Outputs,
        progress: _Progress,
    ) -> None:
        self.spec, self.catalog, self.api_url = spec, catalog, api_url
        self.concurrency = max(1, concurrency)
        self.timeouts, self.retry = timeouts, retry
        self.transport_factory = transport_factory
        self.outputs, self.progress = outputs, progress
        self.tally = Tally()
        self.signal_received: int | None = None
        self._checker = Checker(catalog)
        self._policy = PolicySettings(today=utc_today())
        self._api_version = catalog.api_version_for(spec)

    def run(self, source: BinaryIO) -> None:
        previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
        in_main_thread = threading.current_thread() is threading.main_thread()
        try:
            asyncio.run(self._main(source, list(previous) if in_main_thread else []))
        finally:
            if in_main_thread:
                for signum, handler in previous.items():
                    signal.signal(signum, handler)

    async def _main(self, source: BinaryIO, signals: Sequence[int]) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        slots = self.concurrency
        queue: asyncio.Queue[tuple[int, bytes | None] | None] = asyncio.Queue(maxsize=slots)
        reading_stopped = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            if self.signal_received is None:
                self.signal_received = signum
                reading_stopped.set()
                loop.call_soon_threadsafe(stop.set)
                _exit_later(signum)

        for signum in signals:
            signal.signal(signum, on_signal)

        def read() -> None:
            """The reader thread: lines into the queue, waiting while it is full (the bound on memory)."""
            try:
                for number, raw, consumed in read_lines(source):
                    if reading_stopped.is_set():
                        return
                    self.progress.consumed += consumed
                    future = asyncio.run_coroutine_threadsafe(queue.put((number, raw)), loop)
                    while not reading_stopped.is_set():
                        try:
                            future.result(timeout=0.5)
                            break
                        except TimeoutError:
                            continue
            except (OSError, ValueError):
                pass  # the input went away: what was read is checked, the rest is not there to check
            except (concurrent.futures.CancelledError, RuntimeError):
                return  # the run stopped (a signal, or stdout gone): its loop cancelled the waiting put
            finally:
                if not reading_stopped.is_set():
                    with contextlib.suppress(RuntimeError):
                        asyncio.run_coroutine_threadsafe(queue.put(None), loop)

        # One client for the run (one TLS context, one set of connections: `validator.connections`, whose
        # transport keeps httpcore's per-request pool scan short), and one bound on requests in flight.
        shards = [
            (
                http_client(transport=self._transport(), max_connections=self.concurrency),
                asyncio.Semaphore(self.concurrency),
            )
        ]
        gates: dict[tuple[str, str], tuple[RateGate, int]] = {}
        breakers: dict[str, HostBreaker] = {}

        async def check(install: Install, shard: int) -> InstallResult:
            http, limit = shards[shard]
            region = install.region or self.spec.workspace.region
            spec = replace(self.spec, workspace=Workspace(install.workspace_id, None, region))
            base_url = self.api_url if self.api_url is not None else self.catalog.hosts[region]
            key = (base_url, install.workspace_id)
            gate, users = gates.get(key, (RateGate(), 0))
            gates[key] = (gate, users + 1)  # one gate per workspace while any of its installs is in flight
            host = host_of(base_url)
            client = IntercomClient(
                base_url,
                install.token,
                self._api_version,
                timeouts=self.timeouts,
                retry=self.retry,
                gate=gate,
                limit=limit,
                breaker=breakers.setdefault(host, HostBreaker.for_timeouts(host, self.timeouts)),
                http=http,
            )
            try:
                async with client:
                    checked = await self._checker.check(spec, client, f"installs line {install.line}")
                # connector.yaml's policy, as `validate` applies it: forbidden permissions (probed by the
                # checker with the needed ones) pass only on proof of absence, excess grants warn or fail,
                # waivers turn failures into `waived`; then the advice.
                result = judge_policy(checked, spec, self.catalog, self._policy)
                return judge(install, str(region), result)
            finally:
                gate, users = gates[key]
                if users <= 1:
                    del gates[key]
                else:
                    gates[key] = (gate, users - 1)

        async def worker(shard: int) -> None:
            while True:
                item = await queue.get()
                if item is None:
                    queue.put_nowait(None)  # tell the next worker too
                    return
                number, raw = item
                parsed = parse_line(number, raw)
                if parsed is None:
                    continue
                if isinstance(parsed, Malformed):
                    self._decided(malformed(parsed), Scrubber([]))
                    continue
                result = await check(parsed, shard)
                self._decided(result, Scrubber([parsed.token]))
                if self.outputs.stdout_error is not None:
                    reading_stopped.set()
                    stop.set()

        reader = threading.Thread(target=read, name="fleet-installs", daemon=True)
        reader.start()
        workers = [asyncio.create_task(worker(index % len(shards))) for index in range(slots)]
        stopper = asyncio.create_task(stop.wait())
        done = asyncio.gather(*workers)
        try:
            waited: list[asyncio.Future[Any]] = [done, stopper]
            await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
            if done.done():
                done.result()  # a bug in a worker is raised, not lost
            self.tally.interrupted = self.signal_received is not None
        finally:
            for task in [*workers, stopper]:
                task.cancel()  # installs still in flight are not decided: nothing more is sent for them
            await asyncio.gather(done, stopper, return_exceptions=True)  # retrieved: nothing logged
            reading_stopped.set()
            for http, _ in shards:
                await http.aclose()

    def _transport(self) -> httpx.AsyncBaseTransport | None:
        return self.transport_factory() if self.transport_factory else None

    def _decided(self, result: InstallResult, scrub: Scrubber) -> None:
        self.tally.add(result)
        self.outputs.install(result, scrub)
        self.progress.show(self.tally)


def _exit_later(signum: int, grace_s: float = 5.0) -> None:
    """End the process `grace_s` after the signal if stopping has not ended it by then (as `cli.main` does
    for every command): the report files are replaced whole or not at all either way."""
    code = ExitCode.TERMINATED if signum == signal.SIGTERM else ExitCode.INTERRUPTED

    def stop() -> None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write("connector-validator: stopped (clean-up took too long)\n")
        os._exit(code)

    timer = threading.Timer(grace_s, stop)
    timer.daemon = True
    timer.start()
