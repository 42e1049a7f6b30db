"""Sandbox throughput over loopback: 2,000 requests, 50 in flight at a time, zero errors allowed.

    /work/venv/bin/python bench/sandbox_throughput.py [--requests 2000] [--concurrency 50]

Starts the loopback server in this process, sends `GET /contacts?per_page=1` with a valid token through
`httpx.AsyncClient` (the client the validator uses), and prints requests per second. For comparison it
then sends the same load from a pool of threads using the stdlib's `http.client`, which measures the
server rather than the client. Not a pytest test: timings belong in bench/RESULTS.md, not in assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from validator.sandbox import RateLimitConfig, Sandbox, serve

TOKEN = "sandbox-full-access-0001"
PATH = "/contacts?per_page=1"


async def _httpx_run(base_url: str, requests: int, concurrency: int) -> tuple[float, list[int | str]]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
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


def _threaded_run(base_url: str, requests: int, concurrency: int) -> tuple[float, list[int | str]]:
    url = urlsplit(base_url)
    local = threading.local()
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}

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


def _report(label: str, elapsed: float, results: list[int | str]) -> int:
    errors = [r for r in results if r != 200]
    rate = len(results) / elapsed
    print(f"{label}: {len(results)} requests in {elapsed:.2f} s = {rate:,.0f} req/s; errors: {len(errors)}")
    return len(errors)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()

    sandbox = Sandbox()
    sandbox.update(rate_limit=RateLimitConfig(limit=10_000_000, window_seconds=10))  # measure, not limit
    print(f"python {sys.version.split()[0]}, httpx {httpx.__version__}, {os.cpu_count()} CPUs")
    with serve(sandbox) as base_url:
        errors = _report(
            f"httpx.AsyncClient, {args.concurrency} at a time",
            *asyncio.run(_httpx_run(base_url, args.requests, args.concurrency)),
        )
        errors += _report(
            f"http.client threads, {args.concurrency} at a time",
            *_threaded_run(base_url, args.requests, args.concurrency),
        )
    assert errors == 0, f"{errors} requests failed"
    assert len(sandbox.log) == 2 * args.requests
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
