"""Start-up: `connector-validator --version` and `--help` against `python -c pass` and `import typer`.

Each command runs RUNS times, interleaved (order reversed every other round) after one discarded warm-up
round; medians with spread. `python -c pass` is the interpreter's own floor (no command can start faster),
and `import typer` what any Typer CLI pays before its first line of work. A median below the interpreter's
floor is flagged as noise.

    python bench/startup.py [--runs 20]

Target (issue 12): `--version` <= 0.12 s on these machines.
"""

from __future__ import annotations

import argparse
import sys

import _common as c

TARGET_S = 0.12


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    cli = str(c.entry_point())
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import typer"': [sys.executable, "-c", "import typer"],
        "connector-validator --version": [cli, "--version"],
        "connector-validator --help": [cli, "--help"],
    }

    def timed(name: str) -> float:
        measured = c.run_measured(commands[name], cwd=c.REPO, env=c.clean_env({}))
        if measured.returncode != 0:
            raise SystemExit(f"bench: {name} exited {measured.returncode}")
        return measured.wall_s

    print(c.machine_line())
    samples = c.interleaved({name: (lambda name=name: timed(name)) for name in commands}, runs, warmup=1)
    floor = c.summarize(samples["python -c pass"]).median
    for name, command in commands.items():
        summary = c.summarize(samples[name])
        note = c.floor_note(summary.median, floor, "s") if name != "python -c pass" else ""
        print(f"{name:30} {summary.format('ms', 1, 1000)}  $ {c.quote_command(command)}")
        if note:
            print(f"{'':30} {note}")
    version = c.summarize(samples["connector-validator --version"]).median
    verdict = "met" if version <= TARGET_S else "not met"
    print(f"--version median {version * 1000:.0f} ms; target <= {TARGET_S * 1000:.0f} ms: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
