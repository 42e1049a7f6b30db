"""How many network round trips `validate` spends on the example connector.yaml.

Every sandbox answer is delayed by LATENCY seconds. The CLI runs as a subprocess, side by side in one run:
concurrent (the default) and one request at a time (`--concurrency 1`), each also with no latency so that
process start-up and local work can be subtracted: round trips = (wall with latency - wall without) / LATENCY.

    python bench/validate_latency.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

from validator.sandbox.app import Sandbox
from validator.sandbox.config import DEFAULT_CONFIG_PATH, SandboxConfig
from validator.sandbox.server import serve

REPO = Path(__file__).resolve().parents[1]
LATENCY = 0.1
TOKEN = "sandbox-full-access-0001"


def sandbox(latency_ms: int) -> Sandbox:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["faults"] = [{"route": "*", "kind": "latency", "ms": latency_ms}] if latency_ms else []
    return Sandbox(SandboxConfig.from_dict(data))


def wall(base_url: str, concurrency: int) -> float:
    env = {**os.environ, "INTERCOM_ACCESS_TOKEN": TOKEN, "INTERCOM_API_URL": base_url}
    command = [
        sys.executable,
        "-m",
        "validator",
        "validate",
        str(REPO / "connector.yaml"),
        "--format",
        "json",
    ]
    started = time.perf_counter()
    done = subprocess.run([*command, "--concurrency", str(concurrency)], env=env, capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"validate exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    slow, fast = sandbox(int(LATENCY * 1000)), sandbox(0)
    samples: dict[tuple[str, int], list[float]] = {}
    with serve(slow) as slow_url, serve(fast) as fast_url:
        for _ in range(runs):  # interleaved, so that machine noise hits every setting alike
            for concurrency in (16, 1):
                for name, url in (("latency", slow_url), ("none", fast_url)):
                    samples.setdefault((name, concurrency), []).append(wall(url, concurrency))
    requests = len(slow.log.entries) // runs // 2
    latency_ms = LATENCY * 1000
    print(
        f"requests per validate run: {requests}; latency added per answer: {latency_ms:.0f} ms; runs: {runs}"
    )
    for concurrency, label in (
        (16, "concurrent (default, 16 in flight)"),
        (1, "one after another (--concurrency 1)"),
    ):
        with_latency = statistics.median(samples[("latency", concurrency)])
        without = statistics.median(samples[("none", concurrency)])
        trips = (with_latency - without) / LATENCY
        print(
            f"{label}: wall {with_latency:.3f} s with latency, {without:.3f} s without; "
            f"network {with_latency - without:.3f} s = {trips:.1f} round trips"
        )


if __name__ == "__main__":
    main()
