"""Sandbox throughput over loopback: REQUESTS requests, CONCURRENCY in flight at a time, zero errors allowed.

    python bench/sandbox_throughput.py [--requests 2000] [--concurrency 50] [--runs 3] [--tokens N]
        [--clients httpx,threads]

Starts the loopback server in this process and sends `GET /contacts?per_page=1` with a valid token through
`httpx.AsyncClient` (the client the validator uses), then the same load from a pool of threads using the
stdlib's `http.client`, which measures the server rather than the client. The two clients run
interleaved, RUNS times each; requests per second are reported as medians with spread. `--tokens N` serves a
generated config with N workspaces and one token each (the sandbox's per-request cost with many tokens, what
fleet benchmarks need); by default the sandbox's default config. Not a pytest test: timings belong in
bench/RESULTS.md, not in assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import _common as c
import httpx

from validator.sandbox import RateLimitConfig, Sandbox, SandboxConfig, default_config, serve

PATH = "/contacts?per_page=1"


async def _httpx_run(
    base_url: str, token: str, requests: int, concurrency: int
) -> tuple[float, list[int | str]]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=30) as client:
        gate = asyncio.Semaphore(concurrency)

        async def one() -> int | str:
            async with gate:
                try:
                    return (await client.get(PATH)).status_code
                except httpx.HTTPError as exc:
                    return type(exc).__name__

        started = time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(requests)))
        return time.perf_counter() - started, list(results)


def _threaded_run(
    base_url: str, token: str, requests: int, concurrency: int
) -> tuple[float, list[int | str]]:
    url = urlsplit(base_url)
    local = threading.local()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def one(_: int) -> int | str:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection(
                url.hostname or "", url.port, timeout=30
            )
        try:
            connection.request("GET", PATH, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        except OSError as exc:
            local.connection = None
            return type(exc).__name__

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, range(requests)))
    return time.perf_counter() - started, results


CLIENTS = {
    "httpx.AsyncClient": lambda url, token, n, k: asyncio.run(_httpx_run(url, token, n, k)),
    "http.client threads": _threaded_run,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=0, help="serve N generated workspaces and tokens")
    parser.add_argument("--clients", default="httpx,threads", help="httpx, threads or both (default)")
    args = parser.parse_args()
    keys = {"httpx": "httpx.AsyncClient", "threads": "http.client threads"}
    wanted = args.clients.split(",")
    chosen = {keys[key]: CLIENTS[keys[key]] for key in wanted if key in keys}
    if not chosen or len(chosen) != len(wanted):
        raise SystemExit("bench: --clients takes httpx, threads or httpx,threads")

    if args.tokens:
        data, installs = c.generated_world(args.tokens)
        config = SandboxConfig.from_dict(data)
        token = installs[0].token
        world = f"{args.tokens} generated workspaces and tokens"
    else:
        config, token, world = default_config(), "sandbox-full-access-0001", "the default config"
    sandbox = Sandbox(config)
    sandbox.update(rate_limit=RateLimitConfig(limit=10_000_000, window_seconds=10))  # measure, not limit
    print(c.machine_line())
    print(f"sandbox: {world}; {args.requests} requests per run, {args.concurrency} in flight; interleaved")
    errors = 0
    with serve(sandbox) as base_url:

        def one(name: str) -> float:
            nonlocal errors
            elapsed, results = chosen[name](base_url, token, args.requests, args.concurrency)
            errors += sum(1 for r in results if r != 200)
            return len(results) / elapsed

        samples = c.interleaved({name: (lambda name=name: one(name)) for name in chosen}, args.runs, warmup=0)
    for name in chosen:
        print(f"{name:20} {c.summarize(samples[name]).format('req/s', 0)}")
    print(f"errors: {errors}")
    if errors or len(sandbox.log) != args.requests * args.runs * len(chosen):
        raise SystemExit(f"bench: {errors} requests failed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
