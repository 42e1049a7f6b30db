"""Excess probing adds no round trip (issue 11): `validate` with `--excess off` and `--excess fail`, side by
side, against loopback sandboxes that delay every answer by L and 3L (L = 100 ms).

The connector declares two permissions (conversations:read, tags:read), so `--excess off` sends `GET /me`
and 2 probes, and `--excess fail` sends `GET /me` and every probe of the catalog (the 2 declared ones and
every undeclared permission the catalog can probe) in the same concurrent round: both need 2 round trips.
The token has every permission, so `--excess fail` exits 1 (every undeclared permission is excess) and
`--excess off` exits 0; any other exit stops the script. Settings run interleaved (ABBA).

Per setting: requests per run, the most in flight at once, the round-trip floor (`GET /me`, then the
probes), the rounds the sandbox saw at L (the longest chain of requests each sent after the previous one
was answered), the round trips from the slope ((wall at 3L - wall at L) / 2L, paired per round), and the
wall times; then the ratio of `fail` to `off`.

    python bench/excess_latency.py [--runs 6] [--latency-ms 100]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import _common as c

TOKEN = "sandbox-full-access-0001"  # a token of the sandbox's default config, accepted nowhere else
SPEC = """\
version: 1
name: excess-bench
platform: intercom
workspace: {id: abc12xyz, name: Acme Support}
auth: {mode: access_token}
permissions:
  conversations: [read]
  tags: [read]
"""
SETTINGS = {"--excess off": (["--excess", "off"], 0), "--excess fail": (["--excess", "fail"], 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--latency-ms", type=int, default=100)
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    cli = c.entry_point()
    print(c.machine_line())
    levels = (args.latency_ms, 3 * args.latency_ms)
    with (
        tempfile.TemporaryDirectory() as scratch,
        c.latency_sandbox(None, levels[0]) as one_l,
        c.latency_sandbox(None, levels[1]) as three_l,
    ):
        spec = Path(scratch) / "connector.yaml"
        spec.write_text(SPEC, encoding="utf-8")
        sandboxes = dict(zip(levels, (one_l, three_l), strict=True))

        def run(flags: list[str], expected: int, level: int) -> tuple[float, int, int, int]:
            served = sandboxes[level]
            served.stats.reset()
            env = c.clean_env({"INTERCOM_ACCESS_TOKEN": TOKEN, "INTERCOM_API_URL": served.base_url})
            command = [str(cli), "validate", str(spec), "--format", "json", *flags]
            measured = c.run_measured(command, env=env, cwd=c.REPO)
            if measured.returncode != expected:
                raise SystemExit(
                    f"bench: validate {' '.join(flags)} exited {measured.returncode}, not {expected}"
                )
            rounds = c.causal_rounds(served.stats.intervals)
            return measured.wall_s, served.stats.requests, served.stats.max_in_flight, rounds

        plan = {
            (name, level): (lambda flags=flags, expected=expected, level=level: run(flags, expected, level))
            for name, (flags, expected) in SETTINGS.items()
            for level in levels
        }
        samples = c.interleaved(plan, args.runs, warmup=1)

    print(f"latencies: {', '.join(f'{ms} ms' for ms in levels)}; L = {args.latency_ms} ms; interleaved")
    medians: dict[str, float] = {}
    for name, (flags, _) in SETTINGS.items():
        walls = {level: [s[0] for s in samples[(name, level)]] for level in levels}
        requests = int(c.summarize([s[1] for s in samples[(name, levels[0])]]).median)
        bound = max(s[2] for s in samples[(name, levels[0])])
        floor = c.dependent_floor(requests, bound)
        rounds = c.summarize([s[3] for s in samples[(name, levels[0])]])
        slope = c.summarize(
            [
                (slow - fast) / (2 * latency)
                for slow, fast in zip(walls[levels[1]], walls[levels[0]], strict=True)
            ]
        )
        medians[name] = c.summarize(walls[levels[0]]).median
        command = c.quote_command([str(cli), "validate", "connector.yaml", "--format", "json", *flags])
        print(f"\n{name}: {command}")
        print(f"  requests per run: {requests}; most in flight at once: {bound}; floor: {floor} round trips")
        for level in levels:
            print(f"  wall at {level:3d} ms: {c.summarize(walls[level]).format('s')}")
        for label, figure in (
            (f"rounds seen by the sandbox at {levels[0]} ms", rounds),
            (f"round trips, slope {levels[0]} to {levels[1]} ms", slope),
        ):
            note = c.floor_note(figure.median, floor, "round trips") or c.spread_note(
                figure, 1, "round trips"
            )
            print(
                f"  {label}: {figure.format('', 1)} (ratio to floor {figure.median / floor:.2f})"
                + (f"  <- {note}" if note else "")
            )
    ratio = medians["--excess fail"] / medians["--excess off"]
    print(f"\nwall at {levels[0]} ms, --excess fail / --excess off (medians): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
