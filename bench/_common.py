"""Shared by the bench/ scripts: finding the interpreter and the CLI, timing, summaries, the sandbox.

Nothing here names a machine path: the CLI is looked up next to the running interpreter (`sys.executable`),
then in the virtual environment next to the repository (`<repo>/.venv`), and a missing one ends the script
with one line saying what to install. Figures are summarised as a median with their spread (quartiles and
min-max) and the number of runs, and a figure below its physical floor is called noise, not a result.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # the validator of this checkout, whatever the interpreter has installed
    sys.path.insert(0, str(REPO))

# Every permission of the repository's connector.yaml: 13 declared, which the validator checks with `GET /me`
# and 14 probes (teams and teammates read is backed by both /admins and /teams).
PERMISSIONS_YAML = """\
permissions:
  people: [read, write]
  companies: [read, write]
  conversations: [read, write]
  teams_and_teammates: [read, write]
  tags: [read, write]
  workspace_counts: [read]
  data_attributes: [read, write]
"""
DECLARED_PERMISSIONS = 13


# --- interpreter and entry point ------------------------------------------------------------------------


def bin_dirs() -> list[Path]:
    """Where to look for console scripts: beside the running interpreter, then the repository's venv.

    `sys.executable` is not resolved: a venv's `bin/python` is often a symlink to the base interpreter, whose
    directory does not hold the project's scripts.
    """
    dirs = [Path(sys.executable).parent, REPO / ".venv" / "bin"]
    return list(dict.fromkeys(dirs))


def entry_point(name: str = "connector-validator", dirs: Sequence[Path] | None = None) -> Path:
    """The console script `name` installed beside this interpreter; a one-line SystemExit if there is none."""
    searched = list(dirs) if dirs is not None else bin_dirs()
    for directory in searched:
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    where = " or ".join(str(d) for d in searched)
    raise SystemExit(
        f"bench: {name} is not installed in {where}; run `pip install -e '.[bench]'` with this interpreter"
    )


def clis(choices: Sequence[str] | None) -> dict[str, Path]:
    """The CLIs to compare, from `--cli LABEL=PATH` options: each a `connector-validator` entry point (another
    checkout's, in its own virtual environment). Without any, this checkout's (`entry_point()`), labelled
    "this checkout". A PATH that is not an executable file ends the script with one line."""
    if not choices:
        return {"this checkout": entry_point()}
    chosen: dict[str, Path] = {}
    for choice in choices:
        label, sep, path = choice.partition("=")
        if not sep or not label or not path:
            raise SystemExit(f"bench: --cli expects LABEL=PATH, got {choice!r}")
        if label == "this checkout" and path == ".":
            chosen[label] = entry_point()
            continue
        candidate = Path(path)
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            raise SystemExit(f"bench: --cli {label}: {path} is not an executable file")
        chosen[label] = candidate
    return chosen


def machine_line() -> str:
    import httpx

    import validator

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"python {platform.python_version()} ({sys.executable}), httpx {httpx.__version__}, "
        f"connector-validator {validator.__version__}, {os.cpu_count()} CPUs, load average {load}"
    )


# --- summaries ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """Median and spread of repeated measurements of one thing."""

    runs: int
    median: float
    low: float  # smallest
    high: float  # largest
    q1: float
    q3: float

    def format(self, unit: str = "s", digits: int = 3, scale: float = 1.0) -> str:
        def f(value: float) -> str:
            return f"{value * scale:.{digits}f}"

        spread = f"min-max {f(self.low)}-{f(self.high)}"
        if self.runs >= 4:
            spread = f"IQR {f(self.q1)}-{f(self.q3)}, {spread}"
        value = f"{f(self.median)} {unit}" if unit else f(self.median)
        return f"{value} ({spread}; {self.runs} run{'s' if self.runs != 1 else ''})"


def summarize(values: Sequence[float]) -> Summary:
    if not values:
        raise ValueError("nothing to summarise: no runs")
    ordered = sorted(values)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return Summary(len(ordered), statistics.median(ordered), ordered[0], ordered[-1], q1, q3)


def floor_note(value: float, floor: float, unit: str) -> str:
    """'' when `value` is physically possible; otherwise the words that call it noise.

    A measured figure below the floor (1.6 round trips where /me and then the probes need 2) cannot be a
    property of the program; it is what the measurement's noise or an overlap of local work with the waits
    produced, and must not be read as a result.
    """
    if value < floor:
        return f"below the floor of {floor:g} {unit}: noise, not a result"
    return ""


def spread_note(summary: Summary, width: float, unit: str) -> str:
    """'' when the runs agree to within `width`; otherwise words saying the median cannot be read alone.

    The interquartile range is used from 4 runs on, the full range below that.
    """
    spread = summary.q3 - summary.q1 if summary.runs >= 4 else summary.high - summary.low
    if spread > width:
        return f"spread {spread:.1f} {unit} wider than {width:g}: too noisy to read as a result"
    return ""


def dependent_floor(requests: int, in_flight: int, depth: int = 2) -> int:
    """Fewest sequential round trips that can carry `requests` with `in_flight` at a time.

    Every connector needs `depth` dependent steps (`GET /me`, then its probes), and no more than `in_flight`
    requests can wait on the network at once, so at least ceil(requests / in_flight) round trips pass.
    """
    if requests <= 0:
        return 0
    return max(min(depth, requests), math.ceil(requests / max(1, in_flight)))


def causal_rounds(requests: Sequence[tuple[float, float]]) -> int:
    """The longest chain of requests each sent after the previous one was answered: round trips spent.

    `requests` holds (arrival, answered) times as the server saw them. A request can only depend on answers
    already sent when it arrived, so its round is 1 + the highest round among those; requests sent together
    share a round however slowly a loaded client sends them, as long as none of them had its answer yet.
    Counted from the server's clock, not from wall times of whole runs, so machine noise barely moves it.
    """
    done: list[tuple[float, int]] = []  # heap of (answered, round)
    reached = best = 0  # highest round among requests answered so far; overall
    for arrival, answered in sorted(requests):
        while done and done[0][0] <= arrival:
            reached = max(reached, heapq.heappop(done)[1])
        heapq.heappush(done, (answered, reached + 1))
        best = max(best, reached + 1)
    return best


# --- running things -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One child process: wall time, its own peak resident memory and CPU time, exit code and output."""

    wall_s: float
    peak_rss_bytes: int
    cpu_s: float
    returncode: int
    stdout: bytes
    stderr: bytes


# Started as `python -I -S -c LAUNCHER RESULT_FILE TIMEOUT COMMAND...`: spawns COMMAND, waits for it with
# wait4 and writes its wall time, CPU time and peak RSS to RESULT_FILE. Linux carries a process's peak RSS
# over exec, and a child spawned straight from this script (vfork or fork) starts with this script's peak,
# sandbox and all; spawned from this small launcher it starts from the launcher's own few MiB instead.
LAUNCHER = """
import json, os, signal, sys, time
result, timeout, command = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
started = time.perf_counter()
pid = os.posix_spawnp(command[0], command, os.environ)
signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))
signal.setitimer(signal.ITIMER_REAL, timeout)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
signal.setitimer(signal.ITIMER_REAL, 0)
with open(result, "w") as out:
    json.dump({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "maxrss": usage.ru_maxrss}, out)
sys.exit(os.waitstatus_to_exitcode(status) % 256)
"""


def run_measured(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 900,
    stdin: bytes | None = None,
) -> Measured:
    """Run `command`: wall time, CPU time and peak RSS of that one process, measured by LAUNCHER.

    Not RUSAGE_CHILDREN (the largest peak of all children so far) and not a child of this process, whose
    peak RSS would start at this process's. Output goes to temporary files, not pipes, so a large report
    cannot stall the child while it is timed. The launcher's start-up is not in the wall time.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryFile() as given,
        tempfile.TemporaryDirectory(prefix="bench-run-") as scratch,
    ):
        if stdin is not None:
            given.write(stdin)
            given.seek(0)
        result = Path(scratch) / "usage.json"
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(result), str(timeout), *command]
        done = subprocess.run(
            launcher, stdin=given, stdout=out, stderr=err, env=dict(env) if env else None, cwd=cwd
        )
        out.seek(0), err.seek(0)
        try:
            usage = json.loads(result.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            why = err.read().decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise SystemExit(f"bench: could not run {command[0]}: {why[0][-300:]}") from None
        # Linux reports ru_maxrss in KiB (macOS in bytes).
        rss = usage["maxrss"] if sys.platform == "darwin" else usage["maxrss"] * 1024
        return Measured(usage["wall"], rss, usage["cpu"], done.returncode, out.read(), err.read())


def interleaved(
    settings: Mapping[str, Callable[[], Any]], runs: int, warmup: int = 1
) -> dict[str, list[Any]]:
    """Run every setting `runs` times, round-robin, reversing the order every other round (ABBA).

    Interleaving spreads machine noise (another process, CPU frequency, a cache) over all settings alike;
    reversing cancels a steady drift and the effect of always running right after the same neighbour.
    Warm-up rounds are run and discarded.
    """
    names = list(settings)
    results: dict[str, list[Any]] = {name: [] for name in names}
    for round_no in range(warmup + runs):
        order = names if round_no % 2 == 0 else names[::-1]
        for name in order:
            value = settings[name]()
            if round_no >= warmup:
                results[name].append(value)
    return results


def mib(n_bytes: float) -> float:
    return n_bytes / (1024 * 1024)


# --- the sandbox ----------------------------------------------------------------------------------------


@dataclass
class TrafficStats:
    """What one sandbox saw: each request's (arrival, answered) times, and the most waiting at once."""

    intervals: list[tuple[float, float]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reset(self) -> None:
        with self.lock:
            self.intervals.clear()
            self.in_flight = self.max_in_flight = 0

    @property
    def requests(self) -> int:
        with self.lock:
            return len(self.intervals)


@dataclass(frozen=True)
class Served:
    base_url: str
    sandbox: Any  # validator.sandbox.app.Sandbox
    stats: TrafficStats
    latency_s: float


@contextlib.contextmanager
def latency_sandbox(config_data: Mapping[str, Any] | None, latency_ms: int) -> Iterator[Served]:
    """The loopback sandbox, every answer delayed by `latency_ms`, with traffic statistics.

    The delay is the one the sandbox's own `latency` fault adds (a sleep in the request's thread before the
    answer is written); it is applied here, around `Sandbox.handle`, so that the requests waiting on it can
    be counted: the largest number waiting at once is the in-flight bound the client really used.
    """
    import yaml

    from validator.sandbox.app import Sandbox
    from validator.sandbox.config import DEFAULT_CONFIG_PATH, SandboxConfig
    from validator.sandbox.server import serve

    if config_data is None:
        config_data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    stats = TrafficStats()
    delay = latency_ms / 1000

    class TimedSandbox(Sandbox):  # type: ignore[misc, valid-type]
        def handle(self, request: Any) -> Any:
            arrival = time.monotonic()
            with stats.lock:
                stats.in_flight += 1
                stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
            try:
                if delay:
                    time.sleep(delay)
                return super().handle(request)
            finally:
                with stats.lock:
                    stats.in_flight -= 1
                    stats.intervals.append((arrival, time.monotonic()))

    sandbox = TimedSandbox(SandboxConfig.from_dict(dict(config_data)))
    with serve(sandbox) as base_url:
        yield Served(base_url, sandbox, stats, delay)


def sandbox_rate_limit_off(data: dict[str, Any]) -> dict[str, Any]:
    """Benchmarks measure the client, not the sandbox's per-workspace rate limit."""
    data["rate_limit"] = {"limit": 10_000_000, "window_seconds": 10}
    return data


@dataclass(frozen=True)
class Install:
    workspace_id: str
    token: str


def generated_world(workspaces: int, seed: int = 12) -> tuple[dict[str, Any], list[Install]]:
    """A sandbox config with `workspaces` workspaces, one full-access token each, from a seed.

    Returns the config data and, in order, each workspace's id and token. Tokens are sandbox-only values.
    """
    rng = random.Random(seed)
    data: dict[str, Any] = {"workspaces": [], "tokens": [], "faults": []}
    installs = []
    for i in range(workspaces):
        workspace_id = f"bw{i:05d}{rng.getrandbits(24):06x}"
        token = f"bench-{i:05d}-{rng.getrandbits(96):024x}"
        admin = str(800_000_000 + i)
        data["workspaces"].append(
            {
                "id_code": workspace_id,
                "name": f"Bench workspace {i}",
                "region": "US",
                "admins": [{"id": admin, "name": f"Admin {i}", "email": f"admin{i}@bench.test"}],
            }
        )
        data["tokens"].append(
            {
                "name": f"bench {i}",
                "value": token,
                "workspace": workspace_id,
                "admin": admin,
                "permissions": "all",
            }
        )
        installs.append(Install(workspace_id, token))
    return sandbox_rate_limit_off(data), installs


def connector_yaml(name: str, workspace_id: str, token_env: str) -> str:
    """A connector.yaml declaring the 13 permissions of the repository's example, for one workspace."""
    return (
        "version: 1\n"
        f"name: {name}\n"
        "platform: intercom\n"
        f"workspace: {{id: {workspace_id}, region: us}}\n"
        f"auth: {{mode: access_token, token_env: {token_env}}}\n"
        'api_version: "2.15"\n'
        f"{PERMISSIONS_YAML}"
    )


def token_env_name(i: int) -> str:
    return f"BENCH_TOKEN_{i:05d}"


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without INTERCOM_*/GITHUB_* variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTERCOM_", "GITHUB_"))}
    env.update(extra)
    return env


def quote_command(command: Sequence[str]) -> str:
    """The command as it would be typed from the repository root (paths relative when they can be)."""
    import shlex

    shown = []
    for part in command:
        with contextlib.suppress(ValueError):
            part = str(Path(part).relative_to(REPO)) if part.startswith("/") else part
        shown.append(shlex.quote(part))
    return " ".join(shown)
