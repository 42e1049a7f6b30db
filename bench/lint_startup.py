"""`connector-validator lint connector.yaml` against `check-jsonschema`, side by side in one run.

Both check the same file against the same schema (schemas/connector.schema.json); each command runs RUNS
times, interleaved (order reversed every other round) so that machine noise hits both alike, after one
discarded warm-up round; medians with spread are compared.

    pip install -e '.[bench]'   # check-jsonschema, the tool people use for this job today
    python bench/lint_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse

import _common as c


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    commands = {
        "connector-validator lint": [str(c.entry_point()), "lint", "connector.yaml"],
        "check-jsonschema": [
            str(c.entry_point("check-jsonschema")),
            "--schemafile",
            "schemas/connector.schema.json",
            "connector.yaml",
        ],
    }

    def timed(name: str) -> float:
        measured = c.run_measured(commands[name], cwd=c.REPO, env=c.clean_env({}))
        if measured.returncode != 0:
            output = (measured.stdout + measured.stderr).decode(errors="replace").strip()
            raise SystemExit(f"bench: {name} exited {measured.returncode}: {output[-300:]}")
        return measured.wall_s

    print(c.machine_line())
    samples = c.interleaved({name: (lambda name=name: timed(name)) for name in commands}, runs, warmup=1)
    for name, command in commands.items():
        print(f"{name:26} {c.summarize(samples[name]).format('ms', 1, 1000)}  $ {c.quote_command(command)}")
    ours = c.summarize(samples["connector-validator lint"]).median
    theirs = c.summarize(samples["check-jsonschema"]).median
    print(f"connector-validator lint is {theirs / ours:.2f}x as fast as check-jsonschema (medians)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
