"""Requests sent for 20 connector files that share one token and one workspace, against one such file.

Every file declares the same 13 permissions of the same workspace and reads the same token variable (a
monorepo with one connector per service, all using the team's one token). The checks are identical, so a
validator that shares them sends no more requests for the 20 files than for one. Runs `connector-validator
validate` on 1 file and on all 20, interleaved, against the sandbox at 50 ms of latency, and reports the
requests the sandbox received (and wall times) as medians with spread.

    python bench/shared_token.py [--files 20] [--runs 3]

Target (issue 12): 20 files send no more requests than one file does.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import _common as c

LATENCY_MS = 50


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=LATENCY_MS)
    args = parser.parse_args()
    cli = c.entry_point()
    print(c.machine_line())

    world, installs = c.generated_world(1)
    install = installs[0]
    variable = c.token_env_name(0)
    with (
        tempfile.TemporaryDirectory(prefix="bench-shared-") as tmp,
        c.latency_sandbox(world, args.latency_ms) as served,
    ):
        directory = Path(tmp)
        for i in range(args.files):
            text = c.connector_yaml(f"service-{i:02d}", install.workspace_id, variable)
            (directory / f"service-{i:02d}.yaml").write_text(text, encoding="utf-8")
        env = c.clean_env({"INTERCOM_API_URL": served.base_url, variable: install.token})
        commands = {
            "1 file": [str(cli), "validate", str(directory / "service-00.yaml"), "--format", "json"],
            f"{args.files} files": [str(cli), "validate", str(directory / "*.yaml"), "--format", "json"],
        }
        expected = {"1 file": 1, f"{args.files} files": args.files}

        def one(name: str) -> tuple[c.Measured, int]:
            served.stats.reset()
            measured = c.run_measured(commands[name], env=env)
            report = json.loads(measured.stdout or b"{}")
            if measured.returncode != 0 or len(report.get("connectors", ())) != expected[name]:
                raise SystemExit(f"bench: validate on {name} exited {measured.returncode}, expected 0")
            return measured, served.stats.requests

        samples = c.interleaved({name: (lambda name=name: one(name)) for name in commands}, args.runs, 0)

    print(
        f"latency added per answer: {args.latency_ms} ms; one token, one workspace, 13 permissions per file"
    )
    medians = {}
    for name, command in commands.items():
        requests = c.summarize([r for _, r in samples[name]])
        wall = c.summarize([m.wall_s for m, _ in samples[name]])
        medians[name] = requests.median
        shown = c.quote_command(command).replace(tmp, "DIR")
        print(f"\n{name}: {shown}")
        print(f"  requests sent {requests.format('', 0)}")
        print(f"  wall          {wall.format('s')}")
    one_file, many = medians["1 file"], medians[f"{args.files} files"]
    verdict = "met" if many <= one_file else "not met"
    print(
        f"\n{args.files} files sent {many:.0f} requests, 1 file {one_file:.0f}: {many / one_file:.1f}x; "
        f"target <= 1x: {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
