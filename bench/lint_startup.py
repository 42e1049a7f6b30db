"""`connector-validator lint connector.yaml` against `check-jsonschema`, side by side in one run.

Both check the same file against the same schema (schemas/connector.schema.json); each command runs RUNS
times, interleaved so that machine noise hits both alike, and the medians are compared.

    pip install check-jsonschema   # the tool people use for this job today; a benchmark-only dependency
    python bench/lint_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        output = (done.stdout + done.stderr).decode()
        raise SystemExit(f"{command[0]} exited {done.returncode}: {output}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    bin_dir = Path(sys.executable).parent
    ours = [str(bin_dir / "connector-validator"), "lint", "connector.yaml"]
    theirs_exe = shutil.which("check-jsonschema", path=str(bin_dir)) or shutil.which("check-jsonschema")
    if theirs_exe is None:
        raise SystemExit("check-jsonschema is not installed: pip install check-jsonschema")
    theirs = [theirs_exe, "--schemafile", "schemas/connector.schema.json", "connector.yaml"]
    timed(ours), timed(theirs)  # warm the file cache for both
    samples: dict[str, list[float]] = {"connector-validator lint": [], "check-jsonschema": []}
    for _ in range(runs):
        samples["connector-validator lint"].append(timed(ours))
        samples["check-jsonschema"].append(timed(theirs))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    for name, median in medians.items():
        fastest = min(samples[name]) * 1000
        print(f"{name:26} median {median * 1000:6.1f} ms  (min {fastest:.1f} ms, {runs} runs)")
    ratio = medians["check-jsonschema"] / medians["connector-validator lint"]
    print(f"connector-validator lint is {ratio:.2f}x as fast as check-jsonschema")


if __name__ == "__main__":
    main()
