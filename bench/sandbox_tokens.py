"""The sandbox's own cost per request as the number of tokens it knows grows (issue 12, item 2).

    python bench/sandbox_tokens.py [--tokens 1,1000,10000] [--requests 2000] [--runs 5]
        [--source DIR ...]

Calls `Sandbox.handle` in process (no HTTP, no client: only the sandbox's work) for two requests the
validator sends: `GET /contacts?per_page=1` and the write probe `POST /tags {"test": "invalid"}`, each with
a valid bearer token, against a sandbox generated with N workspaces and one token each (`_common.
generated_world`, from a seed). The figure is microseconds per request: the median over RUNS runs of
REQUESTS requests each, with spread.

Each (source, N) is measured in its own child process, started with this interpreter (`sys.executable`)
and the checkout named by `--source` first on `sys.path` (default: this repository), so that two checkouts
(say, before and after a change: `git archive <commit> | tar -x -C /tmp/before`) can be compared side by
side in one run; the children are interleaved (ABBA) so machine noise falls on all of them alike. Not a
pytest test: timings belong in bench/RESULTS.md, not in assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import _common as c

HERE = Path(__file__).resolve()


def _child(tokens: int, requests: int) -> dict[str, float]:
    """Runs in the child: build the sandbox, time `handle` for both requests; µs per request."""
    import validator
    from validator.sandbox import Sandbox, SandboxConfig, SandboxRequest

    source = Path(os.environ["PYTHONPATH"].split(os.pathsep)[0]).resolve()
    if not Path(validator.__file__).resolve().is_relative_to(source):
        raise SystemExit(f"bench: imported {validator.__file__}, not the checkout {source}")
    data, installs = c.generated_world(tokens)
    sandbox = Sandbox(SandboxConfig.from_dict(data))
    auth = [("Authorization", f"Bearer {installs[-1].token}"), ("Accept", "application/json")]
    requests_by_name = {
        "GET /contacts": SandboxRequest.build("GET", "/contacts?per_page=1", auth),
        "POST /tags": SandboxRequest.build(
            "POST", "/tags", [*auth, ("Content-Type", "application/json")], b'{"test":"invalid"}'
        ),
    }
    out: dict[str, float] = {}
    for name, request in requests_by_name.items():
        for _ in range(50):  # warm-up
            sandbox.handle(request)
        sandbox.log.clear()
        started = time.perf_counter()
        for _ in range(requests):
            response = sandbox.handle(request)
        elapsed = time.perf_counter() - started
        if response.status >= 500 or len(sandbox.log) != requests:
            raise SystemExit(f"bench: {name} answered {response.status}")
        sandbox.log.clear()
        out[name] = elapsed / requests * 1e6
    return out


def _measure(source: Path, tokens: int, requests: int) -> dict[str, float]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(source), str(HERE.parent), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, str(HERE), "--child", str(tokens), "--requests", str(requests)],
        env=env,
        capture_output=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise SystemExit(f"bench: the child for {source} with {tokens} tokens failed: {why[0][-300:]}")
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tokens", default="1,1000,10000", help="comma-separated token counts")
    parser.add_argument("--requests", type=int, default=2000, help="requests per run and request kind")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--source", action="append", type=Path, help="checkout to measure (repeatable)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        # The checkout named by PYTHONPATH must win over the one `_common` puts first on sys.path.
        first = os.environ.get("PYTHONPATH", "").split(os.pathsep)[0]
        if first:
            sys.path.insert(0, first)
        print(json.dumps(_child(args.child, args.requests)))
        return 0

    counts = [int(n) for n in args.tokens.split(",") if n.strip()]
    sources = [s.resolve() for s in (args.source or [c.REPO])]
    for source in sources:
        if not (source / "validator" / "sandbox").is_dir():
            raise SystemExit(f"bench: {source} holds no validator/sandbox")
    print(c.machine_line())
    print(f"{args.requests} requests per run and request, {args.runs} runs, Sandbox.handle in process")
    settings = {
        (str(source), n): (lambda source=source, n=n: _measure(source, n, args.requests))
        for source in sources
        for n in counts
    }
    samples = c.interleaved(settings, args.runs, warmup=0)
    for source in sources:
        shown = c.quote_command([str(source)]) if source != c.REPO else "this checkout"
        print(f"source: {shown}")
        for n in counts:
            runs = samples[(str(source), n)]
            for name in runs[0]:
                summary = c.summarize([run[name] for run in runs])
                print(f"  {n:>6} tokens  {name:14} {summary.format('µs/request', 1)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
