"""Client CPU per request: httpx's own pool against the validator's client, with and without sniffio.

    python bench/client_cpu.py [--requests 3000] [--in-flight 256] [--runs 3] [--latency-ms 50]
        [--python LABEL=PATH ...]

Serves the sandbox in this process (every answer delayed by LATENCY) and runs each client in a child
process of its own, so that the CPU time measured (`time.process_time()` around REQUESTS requests of
`GET /contacts?per_page=1`, IN_FLIGHT at a time, after a warm-up of IN_FLIGHT requests) is the client's
alone. Clients:

- `httpx pool`: one `httpx.AsyncClient` with one httpcore pool of IN_FLIGHT connections (how each
  connector's client was built before issue 12, at the size a whole run needs);
- `http_client`: `validator.connections.http_client`, the client a validate run shares (httpx's transport
  in one-connection shards);
- `IntercomClient`: the validator's whole request path over `http_client` (headers, bound, breaker, body
  size cap, JSON parsing and scrubbing of the answer).

`--python LABEL=PATH` (repeatable) runs the children with other interpreters, for instance one whose
environment lacks sniffio, which httpcore imports on every lock it sets up (encode/httpcore#1103); each
imports the validator of this checkout. Everything runs interleaved; medians with spread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import _common as c

MODES = ("httpx pool", "http_client", "IntercomClient")
PATH = "/contacts"


async def _child(mode: str, base_url: str, token: str, requests: int, in_flight: int) -> dict[str, float]:
    import httpx

    from validator.connections import http_client
    from validator.intercom import IntercomClient

    bound = asyncio.Semaphore(in_flight)
    if mode == "httpx pool":
        limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
        http = httpx.AsyncClient(limits=limits, trust_env=False, timeout=30)
    else:
        http = http_client(max_connections=in_flight)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    async with http:
        client = IntercomClient(base_url, token, "2.15", http=http, limit=bound)

        async def one() -> int | None:
            if mode == "IntercomClient":
                return (await client.request("GET", PATH, query={"per_page": "1"})).status
            async with bound:
                response = await http.get(base_url + PATH, params={"per_page": "1"}, headers=headers)
                return response.status_code

        await asyncio.gather(*(one() for _ in range(in_flight)))
        cpu, wall = time.process_time(), time.perf_counter()
        statuses = await asyncio.gather(*(one() for _ in range(requests)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    errors = sum(1 for status in statuses if status != 200)
    return {"cpu_per_request": cpu / requests, "wall": wall, "errors": errors}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        mode, base_url, token, requests, in_flight = sys.argv[2:7]
        result = asyncio.run(_child(mode, base_url, token, int(requests), int(in_flight)))
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--in-flight", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--python", action="append", metavar="LABEL=PATH", help="interpreters (repeatable)")
    args = parser.parse_args()
    pythons = {"this interpreter": Path(sys.executable)}
    for choice in args.python or ():
        label, sep, path = choice.partition("=")
        if not sep or not Path(path).is_file():
            raise SystemExit(f"bench: --python expects LABEL=PATH to an interpreter, got {choice!r}")
        pythons[label] = Path(path)
    print(c.machine_line())
    world, installs = c.generated_world(1)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(c.REPO), os.environ.get("PYTHONPATH", "")]))
    with c.latency_sandbox(world, args.latency_ms) as served:

        def run(python: Path, mode: str) -> dict[str, float]:
            command = [str(python), __file__, "--child", mode, served.base_url, installs[0].token]
            command += [str(args.requests), str(args.in_flight)]
            done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
            if done.returncode != 0:
                why = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise SystemExit(f"bench: the {mode} child of {python} failed: {why[-300:]}")
            result: dict[str, float] = json.loads(done.stdout)
            if result["errors"]:
                raise SystemExit(f"bench: {result['errors']:.0f} requests failed ({mode}, {python})")
            return result

        plan = {
            (label, mode): (lambda python=python, mode=mode: run(python, mode))
            for label, python in pythons.items()
            for mode in MODES
        }
        samples = c.interleaved(plan, args.runs, warmup=0)
    print(
        f"{args.requests} requests per run, {args.in_flight} in flight, {args.latency_ms} ms per answer; "
        "client CPU per request; interleaved"
    )
    for (label, mode), runs in samples.items():
        cpu = c.summarize([run["cpu_per_request"] for run in runs])
        wall = c.summarize([run["wall"] for run in runs])
        shown = c.quote_command([str(pythons[label])])
        print(f"{label} ({shown}), {mode:14}  CPU {cpu.format('µs', 0, 1e6)}; wall {wall.format('s', 2)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
