"""Requests sent for 20 connector files that share one token and one workspace, against one such file.

Every file declares the same 13 permissions of the same workspace and reads the same token variable (a
monorepo with one connector per service, all using the team's one token). The checks are identical, so a
validator that shares them sends no more requests for the 20 files than for one. Runs `connector-validator
validate` on 1 file and on all 20, interleaved, against the sandbox at 50 ms of latency, and reports the
requests the sandbox received (and wall times) as medians with spread.

    python bench/shared_token.py [--files 20] [--runs 3] [--cli LABEL=PATH ...]

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
    parser.add_argument(
        "--cli",
        action="append",
        metavar="LABEL=PATH",
        help="a connector-validator to measure (repeatable; default: this checkout's); all run interleaved",
    )
    args = parser.parse_args()
    chosen = c.clis(args.cli)
    print(c.machine_line())

    world, installs = c.generated_world(1)
    install = installs[0]
    variable = c.token_env_name(0)
    many = f"{args.files} files"
    with (
        tempfile.TemporaryDirectory(prefix="bench-shared-") as tmp,
        c.latency_sandbox(world, args.latency_ms) as served,
    ):
        directory = Path(tmp)
        for i in range(args.files):
            text = c.connector_yaml(f"service-{i:02d}", install.workspace_id, variable)
            (directory / f"service-{i:02d}.yaml").write_text(text, encoding="utf-8")
        env = c.clean_env({"INTERCOM_API_URL": served.base_url, variable: install.token})
        commands = {}
        for label, cli in chosen.items():
            commands[(label, "1 file")] = [
                str(cli),
                "validate",
                str(directory / "service-00.yaml"),
                "--format",
                "json",
            ]
            commands[(label, many)] = [str(cli), "validate", str(directory / "*.yaml"), "--format", "json"]
        expected = {"1 file": 1, many: args.files}

        def one(key: tuple[str, str]) -> tuple[c.Measured, int]:
            served.stats.reset()
            measured = c.run_measured(commands[key], env=env)
            report = json.loads(measured.stdout or b"{}")
            if measured.returncode != 0 or len(report.get("connectors", ())) != expected[key[1]]:
                raise SystemExit(f"bench: validate on {key} exited {measured.returncode}, expected 0")
            return measured, served.stats.requests

        samples = c.interleaved({key: (lambda key=key: one(key)) for key in commands}, args.runs, 0)

    print(
        f"latency added per answer: {args.latency_ms} ms; one token, one workspace, 13 permissions per file"
    )
    medians = {}
    for key, command in commands.items():
        requests = c.summarize([r for _, r in samples[key]])
        wall = c.summarize([m.wall_s for m, _ in samples[key]])
        medians[key] = requests.median
        shown = c.quote_command(command).replace(tmp, "DIR")
        print(f"\n{key[0]}, {key[1]}: {shown}")
        print(f"  requests sent {requests.format('', 0)}")
        print(f"  wall          {wall.format('s')}")
    for label in chosen:
        one_file, all_files = medians[(label, "1 file")], medians[(label, many)]
        verdict = "met" if all_files <= one_file else "not met"
        print(
            f"\n{label}: {many} sent {all_files:.0f} requests, 1 file {one_file:.0f}: "
            f"{all_files / one_file:.1f}x; target <= 1x: {verdict}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
