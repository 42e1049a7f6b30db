"""The judge's scenario of issue 9: 200 connectors against an API that accepts connections and never answers.

A loopback server (tests/e2e/hostile_server.py, standard library only, not the sandbox) accepts every
connection, reads the request and never answers. `validate` runs on 200 connector files, each naming its
own workspace, at `--timeout 15` and the default retry budget; the wall time is printed, with the exit code
and how many verdicts were inconclusive and named the host. Target: under 60 s.

    python bench/hung_api.py [--connectors 200] [--timeout 15] [--limit 900]

Run by hand (it can take minutes on a tool without a run deadline); the test suite runs a small version of
it (tests/e2e/test_hostile.py::test_two_hundred_connectors_against_a_hung_api_finish_within_a_bound).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from hostile_server import HostileServer  # noqa: E402

TARGET = 60.0
TOKEN = "hungbenchtoken" + "b" * 40


def connector(index: int) -> str:
    return (
        "version: 1\n"
        f"name: hung-{index}\n"
        "platform: intercom\n"
        "workspace:\n"
        f"  id: ws{index:04d}x\n"
        "  region: us\n"
        "auth:\n"
        "  mode: access_token\n"
        "  token_env: INTERCOM_ACCESS_TOKEN\n"
        "permissions:\n"
        "  people: [read, write]\n"
        "  companies: [read, write]\n"
        "  conversations: [read, write]\n"
        "  teams_and_teammates: [read, write]\n"
        "  tags: [read, write]\n"
        "  workspace_counts: [read]\n"
        "  data_attributes: [read, write]\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connectors", type=int, default=200)
    parser.add_argument("--timeout", default="15")
    parser.add_argument("--limit", type=float, default=900.0, help="kill the run after this many seconds")
    options = parser.parse_args()
    dropped = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("INTERCOM_", "GITHUB_")) and name.lower() not in dropped
    }
    env["INTERCOM_ACCESS_TOKEN"] = TOKEN
    with tempfile.TemporaryDirectory() as scratch, HostileServer(lambda request: None) as server:
        paths = []
        for index in range(options.connectors):
            path = Path(scratch) / f"c{index:03d}.yaml"
            path.write_text(connector(index), encoding="utf-8")
            paths.append(str(path))
        command = [
            sys.executable, "-m", "validator", "validate", *paths,
            "--format", "json", "--api-url", server.base_url, "--timeout", options.timeout,
        ]  # fmt: skip
        started = time.monotonic()
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=options.limit)
        except subprocess.TimeoutExpired:
            print(f"{options.connectors} connectors: still running after {options.limit:.0f} s (killed)")
            return 1
        wall = time.monotonic() - started
        requests = len(server.requests)
    verdicts: dict[str, int] = {}
    named = 0
    try:
        document = json.loads(done.stdout)
    except ValueError:
        document = {"connectors": []}
    for item in document["connectors"]:
        for permission in item["permissions"]:
            verdicts[permission["status"]] = verdicts.get(permission["status"], 0) + 1
        named += server.host in json.dumps(item)
    print(
        f"{options.connectors} connectors, --timeout {options.timeout}, default retry budget: "
        f"wall {wall:.1f} s (target < {TARGET:.0f} s), exit {done.returncode}, {requests} requests received"
    )
    print(f"verdicts: {verdicts}; connectors naming {server.host}: {named}/{len(document['connectors'])}")
    if done.stderr.strip():
        print(f"stderr: {done.stderr.strip().splitlines()[-1]}")
    return 0 if wall < TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
