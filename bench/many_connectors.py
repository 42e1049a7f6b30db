"""`validate` over many connector files, each with its own workspace and token, at 50 ms of latency.

Writes N connector files (13 permissions each, distinct workspaces, one token variable each) into a
temporary directory, serves a sandbox that knows those N workspaces and tokens and delays every answer by
LATENCY, and runs `connector-validator validate 'DIR/*.yaml' --format json` as a subprocess. For each N it
reports, as medians with spread over the runs: wall time, the validate process's peak RSS and CPU time, the
requests the sandbox received, the largest number of requests it saw waiting at once (the in-flight bound the
client really used), and the wall time as a ratio to the network floor for that bound:
floor = LATENCY x max(2, ceil(requests / in-flight bound)), for the most seen in flight and for the bound
this checkout's rule sets (`validator.pacing.in_flight_bound`). With `--cli LABEL=PATH` (repeatable) several
builds run side by side (another checkout in its own virtual environment, say); sizes and builds run
interleaved; every run must pass.

    python bench/many_connectors.py              # N = 10 and 50, 3 runs each (about a minute today)
    python bench/many_connectors.py --full       # N = 100 and 1,000: the sizes the scale work is judged at
    python bench/many_connectors.py --sizes 200 --runs 5 --concurrency 64
    python bench/many_connectors.py --full --cli old=OLD_CLI --cli "this checkout=."  # OLD_CLI: another

Targets (issue 12): 100 files <= 3 s and <= 100 MiB; 1,000 files <= 20 s and <= 200 MiB.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import _common as c

LATENCY_MS = 50
TARGETS = {100: (3.0, 100.0), 1000: (20.0, 200.0)}  # N -> (wall s, peak MiB)


def write_connectors(directory: Path, installs: list[c.Install]) -> dict[str, str]:
    """One connector file per install; returns the environment that carries their tokens."""
    env = {}
    for i, install in enumerate(installs):
        variable = c.token_env_name(i)
        text = c.connector_yaml(f"bench-connector-{i:05d}", install.workspace_id, variable)
        (directory / f"connector-{i:05d}.yaml").write_text(text, encoding="utf-8")
        env[variable] = install.token
    return env


def check_report(measured: c.Measured, expected: int) -> None:
    if measured.returncode != 0:
        tail = measured.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
        raise SystemExit(f"bench: validate exited {measured.returncode}, expected 0 (all granted): {tail[0]}")
    report = json.loads(measured.stdout)
    if report["outcome"] != "pass" or len(report["connectors"]) != expected:
        raise SystemExit(
            f"bench: validate reported {report['outcome']} for {len(report['connectors'])} connectors, "
            f"expected pass for {expected}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=lambda s: [int(n) for n in s.split(",")], default=None)
    parser.add_argument("--runs", type=int, default=None, help="runs per size (default 3)")
    parser.add_argument("--full", action="store_true", help="the judged sizes: 100 and 1,000 files")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="pass --concurrency to validate (default: its own)"
    )
    parser.add_argument("--latency-ms", type=int, default=LATENCY_MS)
    parser.add_argument(
        "--cli",
        action="append",
        metavar="LABEL=PATH",
        help="a connector-validator to measure (repeatable; default: this checkout's); all run interleaved",
    )
    args = parser.parse_args()
    sizes = args.sizes or ([100, 1000] if args.full else [10, 50])
    runs = args.runs or 3
    chosen = c.clis(args.cli)
    print(c.machine_line())

    world, installs = c.generated_world(max(sizes))
    with (
        tempfile.TemporaryDirectory(prefix="bench-many-") as tmp,
        c.latency_sandbox(world, args.latency_ms) as served,
    ):
        commands: dict[tuple[str, int], list[str]] = {}
        envs: dict[int, dict[str, str]] = {}
        for n in sizes:
            directory = Path(tmp) / f"n{n}"
            directory.mkdir()
            envs[n] = c.clean_env(
                {"INTERCOM_API_URL": served.base_url, **write_connectors(directory, installs[:n])}
            )
            for label, cli in chosen.items():
                command = [str(cli), "validate", str(directory / "*.yaml"), "--format", "json"]
                if args.concurrency:
                    command += ["--concurrency", str(args.concurrency)]
                commands[(label, n)] = command

        def one(label: str, n: int) -> tuple[c.Measured, int, int]:
            served.stats.reset()
            measured = c.run_measured(commands[(label, n)], env=envs[n])
            check_report(measured, n)
            return measured, served.stats.requests, served.stats.max_in_flight

        plan = {key: (lambda key=key: one(*key)) for key in commands}
        samples = c.interleaved(plan, runs, warmup=0)

    print(f"latency added per answer: {args.latency_ms} ms; 13 permissions per connector; all interleaved")
    from validator.pacing import in_flight_bound  # this checkout's rule

    rows = {key: summarize_size(samples[key], args.latency_ms / 1000) for key in commands}
    for (label, n), row in rows.items():
        shown = c.quote_command(commands[(label, n)]).replace(str(Path(tmp) / f"n{n}"), "DIR")
        print(f"\n{label}, N = {n}: {shown}  (DIR: the {n} generated connector files)")
        print(f"  wall            {row.wall.format('s')}")
        print(f"  peak RSS        {row.rss.format('MiB', 1, 1 / (1024 * 1024))}")
        per_request = row.cpu.median / row.requests.median * 1000
        print(f"  CPU of validate {row.cpu.format('s')}; {per_request:.2f} ms per request sent")
        print(f"  requests sent   {row.requests.format('', 0)}; most in flight at once: {row.bound}")
        print(
            f"  network floor   {row.floor_s:.3f} s = {row.floor_trips} round trips of {args.latency_ms} ms "
            f"for {row.bound} in flight (the most seen); wall / floor = {row.wall.median / row.floor_s:.2f}"
        )
        rule = in_flight_bound(n, args.concurrency)
        rule_trips = c.dependent_floor(int(row.requests.median), rule)
        rule_floor = rule_trips * args.latency_ms / 1000
        print(
            f"  network floor   {rule_floor:.3f} s = {rule_trips} round trips for {rule} in flight (this "
            f"checkout's bound for {n} workspaces); wall / floor = {row.wall.median / rule_floor:.2f}"
        )
        if note := c.floor_note(row.wall.median, row.floor_s, "s"):
            print(f"  wall: {note}")
        if n in TARGETS:
            wall_target, rss_target = TARGETS[n]
            met = row.wall.median <= wall_target and c.mib(row.rss.median) <= rss_target
            print(f"  target <= {wall_target:g} s and <= {rss_target:g} MiB: {'met' if met else 'not met'}")
    for label in chosen:
        if len(sizes) >= 2:
            small, large = rows[(label, min(sizes))], rows[(label, max(sizes))]
            extra = max(sizes) - min(sizes)
            extra_requests = max(1.0, large.requests.median - small.requests.median)
            cpu_per_request = (large.cpu.median - small.cpu.median) / extra_requests * 1000
            print(
                f"\n{label}: per extra connector (N = {min(sizes)} to {max(sizes)}, medians): "
                f"{(large.wall.median - small.wall.median) / extra * 1000:.1f} ms wall, "
                f"{c.mib(large.rss.median - small.rss.median) / extra:.2f} MiB; "
                f"CPU per extra request {cpu_per_request:.2f} ms"
            )
    if len(chosen) >= 2:
        first, *others = chosen
        for other in others:
            for n in sizes:
                a, b = rows[(first, n)], rows[(other, n)]
                print(
                    f"\nN = {n}: {other} / {first}: wall {b.wall.median / a.wall.median:.2f}x, "
                    f"peak RSS {b.rss.median / a.rss.median:.2f}x, CPU {b.cpu.median / a.cpu.median:.2f}x"
                )
    return 0


@dataclass(frozen=True)
class Row:
    wall: c.Summary
    rss: c.Summary
    cpu: c.Summary
    requests: c.Summary
    bound: int
    floor_trips: int
    floor_s: float


def summarize_size(samples: list[tuple[c.Measured, int, int]], latency_s: float) -> Row:
    requests = c.summarize([r for _, r, _ in samples])
    bound = max(b for _, _, b in samples)
    trips = c.dependent_floor(int(requests.median), bound)
    return Row(
        wall=c.summarize([m.wall_s for m, _, _ in samples]),
        rss=c.summarize([m.peak_rss_bytes for m, _, _ in samples]),
        cpu=c.summarize([m.cpu_s for m, _, _ in samples]),
        requests=requests,
        bound=bound,
        floor_trips=trips,
        floor_s=trips * latency_s,
    )


if __name__ == "__main__":
    raise SystemExit(main())
