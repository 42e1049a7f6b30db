"""How many network round trips `validate` spends on the example connector.yaml.

The example declares 13 permissions: `validate` sends `GET /me` and then 14 probes, so with enough requests
in flight it needs 2 round trips, and one request at a time needs 15. `connector-validator validate
connector.yaml` runs as a subprocess, with its default concurrency and with `--concurrency 1`, against
three loopback sandboxes that delay every answer by 0, L and 3L (L = 100 ms). Settings run interleaved,
the order reversed every other round, so that each latency run sits next to its no-latency baseline.

Three figures per setting, each with its median, spread and number of runs:
- rounds seen by the sandbox at latency L: the longest chain of requests each sent after the previous one
  was answered, from the sandbox's own clock. Machine noise barely moves it.
- round trips from the slope: (wall at 3L - wall at L) / 2L, paired per round. Local work that overlaps the
  waits is hidden alike at both latencies and cancels out.
- round trips from the baseline: (wall at L - wall at 0) / L, paired per round. This one is biased low,
  because local work that overlaps a wait at latency L is not hidden at 0; a value below the floor is
  flagged as noise by the script, never reported as a result.

    python bench/validate_latency.py [--runs 6] [--latency-ms 100]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import _common as c

TOKEN = "sandbox-full-access-0001"  # a token of the sandbox's default config, accepted nowhere else
SETTINGS = {"default concurrency": [], "--concurrency 1": ["--concurrency", "1"]}


def trips(samples: Sequence[float], baseline: Sequence[float], latency_s: float) -> list[float]:
    """Round trips per paired run: the extra wall time of `samples` over `baseline`, in units of latency."""
    return [(slow - fast) / latency_s for slow, fast in zip(samples, baseline, strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--latency-ms", type=int, default=100)
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    cli = c.entry_point()
    print(c.machine_line())
    levels = (0, args.latency_ms, 3 * args.latency_ms)
    with (
        c.latency_sandbox(None, levels[0]) as none,
        c.latency_sandbox(None, levels[1]) as one_l,
        c.latency_sandbox(None, levels[2]) as three_l,
    ):
        sandboxes = dict(zip(levels, (none, one_l, three_l), strict=True))

        def run(flags: list[str], level: int) -> tuple[float, int, int, int]:
            served = sandboxes[level]
            served.stats.reset()
            env = c.clean_env({"INTERCOM_ACCESS_TOKEN": TOKEN, "INTERCOM_API_URL": served.base_url})
            command = [str(cli), "validate", str(c.REPO / "connector.yaml"), "--format", "json", *flags]
            measured = c.run_measured(command, env=env, cwd=c.REPO)
            if measured.returncode != 0:
                raise SystemExit(f"bench: validate exited {measured.returncode}, expected 0 (all granted)")
            rounds = c.causal_rounds(served.stats.intervals) if level else 0
            return measured.wall_s, served.stats.requests, served.stats.max_in_flight, rounds

        plan = {
            (name, level): (lambda flags=flags, level=level: run(flags, level))
            for name, flags in SETTINGS.items()
            for level in levels
        }
        samples = c.interleaved(plan, args.runs, warmup=1)

    print(f"latencies: {', '.join(f'{ms} ms' for ms in levels)}; L = {args.latency_ms} ms; interleaved")
    for name, flags in SETTINGS.items():
        walls = {level: [s[0] for s in samples[(name, level)]] for level in levels}
        requests = int(c.summarize([s[1] for s in samples[(name, levels[1])]]).median)
        bound = max(s[2] for s in samples[(name, levels[1])])
        floor = c.dependent_floor(requests, bound)
        rounds = c.summarize([s[3] for s in samples[(name, levels[1])]])
        slope = c.summarize(trips(walls[levels[2]], walls[levels[1]], 2 * latency))
        baseline = c.summarize(trips(walls[levels[1]], walls[levels[0]], latency))
        command = c.quote_command([str(cli), "validate", "connector.yaml", "--format", "json", *flags])
        print(f"\n{name}: {command}")
        print(f"  requests per run: {requests}; most in flight at once: {bound}; floor: {floor} round trips")
        for level in levels:
            print(f"  wall at {level:3d} ms: {c.summarize(walls[level]).format('s')}")
        for label, figure in (
            (f"rounds seen by the sandbox at {levels[1]} ms", rounds),
            (f"round trips, slope {levels[1]} to {levels[2]} ms", slope),
            (f"round trips, {levels[1]} ms minus 0 ms", baseline),
        ):
            note = c.floor_note(figure.median, floor, "round trips") or c.spread_note(
                figure, 1, "round trips"
            )
            print(f"  {label}: {figure.format('', 1)}" + (f"  <- {note}" if note else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
