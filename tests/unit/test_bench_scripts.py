"""The bench/ scripts' pure helpers: summaries, floors, round counting, generated worlds; no timing here.

Also: no bench script names an interpreter or a machine path; each finds its interpreter itself.
"""

from __future__ import annotations

import importlib.util
import re
import resource
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from validator.sandbox.config import SandboxConfig
from validator.spec import load_spec

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))  # the scripts import `_common` as their sibling, as when run
    if name == "_common":
        return importlib.import_module("_common")  # the very module the scripts share
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


common = _load("_common")


def test_summary_gives_median_quartiles_and_range() -> None:
    summary = common.summarize([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (summary.runs, summary.median, summary.low, summary.high) == (5, 3.0, 1.0, 5.0)
    assert (summary.q1, summary.q3) == (2.0, 4.0)
    text = summary.format("s", 1)
    assert text == "3.0 s (IQR 2.0-4.0, min-max 1.0-5.0; 5 runs)"


def test_summary_of_few_runs_shows_range_only_and_of_none_refuses() -> None:
    assert common.summarize([2.0, 4.0]).format("ms", 0, 1000) == "3000 ms (min-max 2000-4000; 2 runs)"
    assert common.summarize([7.0]).format("", 0) == "7 (min-max 7-7; 1 run)"
    with pytest.raises(ValueError, match="no runs"):
        common.summarize([])


def test_a_figure_below_the_floor_is_called_noise() -> None:
    assert common.floor_note(1.6, 2, "round trips") == "below the floor of 2 round trips: noise, not a result"
    assert common.floor_note(2.0, 2, "round trips") == ""
    assert common.floor_note(2.4, 2, "round trips") == ""


def test_a_wide_spread_is_called_too_noisy() -> None:
    tight, wide = common.summarize([2.0, 2.1, 2.2, 2.3]), common.summarize([0.1, 1.0, 3.0, 4.0])
    assert common.spread_note(tight, 1, "round trips") == ""
    assert common.spread_note(wide, 1, "round trips").endswith("too noisy to read as a result")
    assert common.spread_note(common.summarize([2.0, 3.5]), 1, "round trips") != ""  # few runs: full range


def test_dependent_floor_counts_me_then_probes_and_the_in_flight_bound() -> None:
    assert common.dependent_floor(15, 16) == 2  # /me, then 14 probes together
    assert common.dependent_floor(15, 1) == 15  # one after another
    assert common.dependent_floor(1500, 16) == 94  # 100 connectors through 16 slots
    assert common.dependent_floor(1500, 2000) == 2
    assert common.dependent_floor(1, 16) == 1
    assert common.dependent_floor(0, 16) == 0


def test_causal_rounds_counts_the_longest_chain_of_answer_then_request() -> None:
    latency = 0.1
    me = [(0.0, latency)]
    probes = [(0.101 + i * 0.001, 0.201 + i * 0.001) for i in range(14)]
    assert common.causal_rounds(me + probes) == 2
    one_by_one = [(i * 0.102, i * 0.102 + latency) for i in range(15)]
    assert common.causal_rounds(one_by_one) == 15
    assert common.causal_rounds(list(reversed(me + probes))) == 2  # order of the records irrelevant
    # A loaded client sends its probes 60 ms apart: still one round, as none was answered before the next.
    slow_sender = [(0.101 + i * 0.06, 0.201 + i * 0.06) for i in range(2)]
    assert common.causal_rounds(me + slow_sender) == 2
    # ...but a request sent after an answer came back may depend on it: a new round.
    assert common.causal_rounds([*me, (0.15, 0.25), (0.26, 0.36)]) == 3
    assert common.causal_rounds([]) == 0


def test_validate_latency_pairs_runs_into_round_trips() -> None:
    latency = _load("validate_latency")
    assert latency.trips([0.7, 0.8], [0.5, 0.5], 0.1) == pytest.approx([2.0, 3.0])
    with pytest.raises(ValueError):
        latency.trips([0.7], [0.5, 0.5], 0.1)


def test_interleaved_alternates_order_and_drops_warmup() -> None:
    calls: list[str] = []

    def setting(name: str) -> Callable[[], str]:
        def run() -> str:
            calls.append(name)
            return name

        return run

    settings = {name: setting(name) for name in "ab"}
    results = common.interleaved(settings, runs=3, warmup=1)
    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert results == {"a": ["a", "a", "a"], "b": ["b", "b", "b"]}


def test_generated_world_is_a_valid_sandbox_config_with_distinct_workspaces_and_tokens() -> None:
    data, installs = common.generated_world(50)
    config = SandboxConfig.from_dict(data)
    assert len(config.workspaces) == len(config.tokens) == 50
    assert len({i.workspace_id for i in installs}) == len({i.token for i in installs}) == 50
    assert {t.workspace for t in config.tokens} == {i.workspace_id for i in installs}
    assert common.generated_world(50)[1] == installs  # from a seed: the same world every time


def test_generated_connector_declares_the_13_permissions_of_the_example(tmp_path: Path) -> None:
    path = tmp_path / "connector.yaml"
    path.write_text(common.connector_yaml("bench-1", "bw00001abc", "BENCH_TOKEN_00001"), encoding="utf-8")
    spec = load_spec(path)
    assert spec.workspace.id == "bw00001abc" and spec.auth.token_env == "BENCH_TOKEN_00001"
    example = yaml.safe_load((BENCH.parent / "connector.yaml").read_text(encoding="utf-8"))
    assert yaml.safe_load(common.PERMISSIONS_YAML)["permissions"] == example["permissions"]
    assert sum(len(levels) for levels in example["permissions"].values()) == common.DECLARED_PERMISSIONS


def test_entry_point_is_found_in_the_given_dirs_or_fails_in_one_line(tmp_path: Path) -> None:
    empty, full = tmp_path / "empty", tmp_path / "bin"
    empty.mkdir()
    full.mkdir()
    script = full / "connector-validator"
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    assert common.entry_point(dirs=[empty, full]) == script
    with pytest.raises(SystemExit) as exc:
        common.entry_point(dirs=[empty])
    message = str(exc.value)
    assert "connector-validator is not installed in" in message and "pip install" in message
    assert "\n" not in message


def test_entry_point_looks_beside_the_running_interpreter_first() -> None:
    assert common.bin_dirs()[0] == Path(sys.executable).parent


def test_peak_rss_and_exit_code_come_from_the_child_itself() -> None:
    small = common.run_measured([sys.executable, "-c", "pass"])
    big = common.run_measured(
        [sys.executable, "-c", "b = bytearray(64 * 1024 * 1024); b[::4096] = b'x' * 16384"]
    )
    failed = common.run_measured([sys.executable, "-c", "import sys; print('out'); sys.exit(3)"])
    assert small.returncode == big.returncode == 0 and failed.returncode == 3 and failed.stdout == b"out\n"
    assert big.peak_rss_bytes - small.peak_rss_bytes > 48 * 1024 * 1024
    small_again = common.run_measured([sys.executable, "-c", "pass"])  # not the maximum over all children
    assert small_again.peak_rss_bytes < big.peak_rss_bytes - 48 * 1024 * 1024
    # Not inherited from this (larger) process either: Linux carries a peak RSS over fork/vfork and exec.
    ballast = bytearray(96 * 1024 * 1024)
    ballast[::4096] = b"x" * len(ballast[::4096])
    parent_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert common.run_measured([sys.executable, "-c", "pass"]).peak_rss_bytes < parent_peak - 64 * 1024 * 1024
    del ballast


def test_a_command_that_cannot_start_ends_the_script_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        common.run_measured([str(tmp_path / "no-such-program")])
    assert str(exc.value).startswith("bench: could not run ") and "\n" not in str(exc.value)


# A literal interpreter or machine path in a script: what made bench/sandbox_throughput.py unrunnable
# outside the machine it was written on.
_HARD_CODED = re.compile(r"/work/|/home/|/usr/bin/python|\.venv/bin/python|venv/bin/|/opt/")


@pytest.mark.parametrize("script", sorted(BENCH.glob("*.py")), ids=lambda p: p.name)
def test_no_bench_script_names_an_interpreter_path(script: Path) -> None:
    text = script.read_text(encoding="utf-8")
    found = _HARD_CODED.findall(text)
    assert not found, f"{script.name} names a fixed path {found}; use bench/_common.py's entry_point()"
