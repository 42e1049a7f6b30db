"""`connector-validator fleet` end to end: the CLI as a subprocess against the loopback sandbox.

A mix of installs (all granted, one label missing, a token of another workspace, a revoked token, a 5xx,
malformed lines) gives the right line for each, the right summary and exit code; no token, nor any run of
12 of its characters, appears in stdout, stderr or a report file; a SIGINT mid-run still writes the summary
and the reports; an installs file its group can read is refused before anything is sent.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness import CANARY, EXAMPLE, REPO, clean_env, default_config_data, served
from validator.errors import ExitCode
from validator.sandbox.config import SandboxConfig
from validator.sandbox.generate import installs_jsonl
from validator.tokens import FRAGMENT_LENGTH

pytestmark = pytest.mark.e2e

NO_WRITE_TAGS = "sandbox-no-write-tags-0002"
REVOKED = "sandbox-revoked-0003"
EU_FULL = "sandbox-eu-full-access-0004"
AU_FULL = "sandbox-au-full-access-0005"


@functools.cache
def fleet_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((REPO / "schemas" / "fleet.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def mix_config() -> dict[str, Any]:
    data = default_config_data()
    # Every request of the AU workspace's token answers 503: that install cannot be decided.
    data["faults"] = [{"route": "*", "kind": "status", "status": 503, "workspace": "au56wksp"}]
    return data


def line(**fields: Any) -> str:
    return json.dumps(fields) + "\n"


MIX = "".join(
    [
        line(workspace_id="abc12xyz", token=CANARY, label="acme (all granted)"),  # 1
        line(workspace_id="abc12xyz", token=NO_WRITE_TAGS, label="acme (no write tags)"),  # 2
        line(workspace_id="abc12xyz", token=EU_FULL, region="us", label="acme with the EU token"),  # 3
        line(workspace_id="abc12xyz", token=REVOKED, label="acme revoked"),  # 4
        line(workspace_id="au56wksp", token=AU_FULL, region="au", label="australia (5xx)"),  # 5
        "this is not json " + CANARY + "\n",  # 6
        line(workspace_id="abc12xyz", label="no token"),  # 7
        line(workspace_id="abc12xyz", token="Bearer " + CANARY, label="pasted header"),  # 8
        "\n",  # 9: blank, not an install
        line(workspace_id=42, token=CANARY),  # 10
        line(workspace_id="eu34wksp", token=EU_FULL, region="eu", label="europe"),  # 11
    ]
)
SECRETS = (CANARY, NO_WRITE_TAGS, REVOKED, EU_FULL, AU_FULL)


def assert_no_token(texts: dict[str, str]) -> None:
    """No secret, nor any FRAGMENT_LENGTH-character run of one, in any output."""
    for secret in SECRETS:
        pieces = {secret[i : i + FRAGMENT_LENGTH] for i in range(len(secret) - FRAGMENT_LENGTH + 1)}
        for where, text in texts.items():
            for piece in pieces:
                assert piece not in text, f"a piece of a token leaked into {where}"


def run_fleet(
    base_url: str, *args: str, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "validator", "fleet", str(EXAMPLE), "--api-url", base_url, *args],
        env=clean_env({}),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_mix_of_installs_gives_the_right_line_for_each_and_the_right_summary(tmp_path: Path) -> None:
    reports = {fmt: tmp_path / f"fleet.{fmt}" for fmt in ("markdown", "csv", "jsonl")}
    options = [item for fmt, path in reports.items() for item in ("--report", f"{fmt}={path}")]
    with served(mix_config()) as world:
        run = run_fleet(
            world.base_url, "--installs", "-", "--format", "jsonl", "--retry-budget", "0", *options, stdin=MIX
        )
    files = {fmt: path.read_text(encoding="utf-8") for fmt, path in reports.items()}
    assert_no_token({"stdout": run.stdout, "stderr": run.stderr, **files})
    assert run.stderr == ""  # no progress line when stderr is not a terminal, no traceback
    assert run.returncode == ExitCode.WRONG_WORKSPACE, run.stderr
    objects = [json.loads(text) for text in run.stdout.splitlines()]
    for item in objects:
        fleet_validator().validate(item)
    *installs, last = objects
    by_line = {item["line"]: item for item in installs}
    assert sorted(by_line) == [1, 2, 3, 4, 5, 6, 7, 8, 10, 11]  # the blank line 9 is no install
    expected = {
        1: ("pass", "none"),
        2: ("fail", "reauthorize"),
        3: ("fail", "wrong_workspace"),
        4: ("fail", "token_rejected"),
        5: ("inconclusive", "retry"),
        6: ("error", "fix_input"),
        7: ("error", "fix_input"),
        8: ("error", "fix_input"),
        10: ("error", "fix_input"),
        11: ("pass", "none"),
    }
    assert {number: (item["outcome"], item["action"]) for number, item in by_line.items()} == expected
    assert by_line[2]["missing"] == ["Write tags"]
    assert by_line[3]["found_workspace_id"] == "eu34wksp" and by_line[3]["missing"] == []
    assert by_line[1]["label"] == "acme (all granted)" and by_line[1]["workspace_id"] == "abc12xyz"
    assert by_line[6]["reason"].startswith("skipped: not JSON")
    assert by_line[7]["reason"] == "skipped: missing token"
    assert "Bearer" in by_line[8]["reason"] and by_line[8]["token_fingerprint"] is not None
    assert by_line[10]["reason"] == "skipped: workspace_id is not a non-empty string"
    import hashlib

    assert by_line[1]["token_fingerprint"] == hashlib.sha256(CANARY.encode()).hexdigest()[:8]
    summary = last["summary"]
    assert summary["installs"] == 10
    assert summary["outcomes"] == {"pass": 2, "fail": 3, "error": 4, "inconclusive": 1}
    assert summary["actions"] == {
        "none": 2,
        "reauthorize": 1,
        "wrong_workspace": 1,
        "token_rejected": 1,
        "retry": 1,
        "fix_input": 4,
    }
    assert summary["missing"] == [{"label": "Write tags", "installs": 1}]
    assert summary["exit_code"] == ExitCode.WRONG_WORKSPACE and summary["interrupted"] is False
    # The jsonl report holds what stdout got; the csv has a row per install; markdown the ones to follow up.
    assert files["jsonl"] == run.stdout
    assert len(files["csv"].splitlines()) == 1 + 10
    assert files["markdown"].count("| **") == 8 and "## Summary" in files["markdown"]
    assert "| wrong_workspace | 1 |" in files["markdown"]


def test_text_format_lists_the_installs_needing_action_then_the_summary_table() -> None:
    with served(mix_config()) as world:
        run = run_fleet(world.base_url, "--installs", "-", "--retry-budget", "0", stdin=MIX)
    assert_no_token({"stdout": run.stdout, "stderr": run.stderr})
    assert run.returncode == ExitCode.WRONG_WORKSPACE
    lines = run.stdout.splitlines()
    needing = [text for text in lines if text.startswith("line ")]
    assert sorted(int(text.split(":")[0].split()[1]) for text in needing) == [2, 3, 4, 5, 6, 7, 8, 10]
    assert any("line 2: acme (no write tags)" in text and "tick: 'Write tags'" in text for text in needing)
    assert any(
        text.startswith("line 3: ") and "wrong_workspace" in text and "eu34wksp" in text for text in needing
    )
    assert "fleet: 10 installs decided" in run.stdout
    assert any(text.split() == ["pass", "2"] for text in lines)
    assert any(text.split() == ["wrong_workspace", "1"] for text in lines)
    assert any(text.split() == ["Write", "tags", "1"] for text in lines)
    assert f"exit code {int(ExitCode.WRONG_WORKSPACE)}:" in run.stdout


def test_all_granted_installs_exit_0_and_one_missing_label_exits_1() -> None:
    with served() as world:
        passing = run_fleet(
            world.base_url,
            "--installs",
            "-",
            "-f",
            "jsonl",
            stdin=line(workspace_id="abc12xyz", token=CANARY),
        )
        failing = run_fleet(
            world.base_url,
            "--installs",
            "-",
            "-f",
            "jsonl",
            stdin=line(workspace_id="abc12xyz", token=CANARY)
            + line(workspace_id="abc12xyz", token=NO_WRITE_TAGS),
        )
    assert passing.returncode == ExitCode.OK, passing.stderr
    assert failing.returncode == ExitCode.FAILED, failing.stderr
    assert json.loads(failing.stdout.splitlines()[-1])["summary"]["missing"] == [
        {"label": "Write tags", "installs": 1}
    ]


def test_an_installs_file_its_group_can_read_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    installs = tmp_path / "installs.jsonl"
    installs.write_text(line(workspace_id="abc12xyz", token=CANARY), encoding="utf-8")
    with served() as world:
        os.chmod(installs, 0o640)
        refused = run_fleet(world.base_url, "--installs", str(installs))
        sent_while_refused = len(world.sandbox.log)
        os.chmod(installs, 0o600)
        accepted = run_fleet(world.base_url, "--installs", str(installs), "-f", "jsonl")
    assert refused.returncode == ExitCode.INSTALLS_EXPOSED
    assert refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "chmod 600" in refused.stderr and "0640" in refused.stderr
    assert sent_while_refused == 0
    assert accepted.returncode == ExitCode.OK, accepted.stderr
    assert_no_token({"refused": refused.stderr, "stdout": accepted.stdout, "stderr": accepted.stderr})


def test_sigint_mid_run_stops_sending_and_still_writes_the_summary_and_the_reports(tmp_path: Path) -> None:
    data = {
        "generate": {"seed": 5, "workspaces": 200},
        "faults": [{"route": "*", "kind": "latency", "ms": 200}],
        "rate_limit": {"limit": 100000},
    }
    installs = installs_jsonl(SandboxConfig.from_dict(data))
    tokens = [json.loads(text)["token"] for text in installs.splitlines()]
    markdown = tmp_path / "fleet.md"
    with served(data) as world:
        process = subprocess.Popen(
            [sys.executable, "-m", "validator", "fleet", str(EXAMPLE), "--installs", "-", "-f", "jsonl",
             "--api-url", world.base_url, "--concurrency", "4", "--report", f"markdown={markdown}"],
            env=clean_env({}), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(installs)
        process.stdin.close()
        process.stdin = None  # closed: communicate() must not flush it
        first = process.stdout.readline()  # one install decided: the run is under way
        process.send_signal(signal.SIGINT)
        try:
            rest, stderr = process.communicate(timeout=30)
        finally:
            process.kill()
        sent_at_stop = len(world.sandbox.log)
        time.sleep(0.5)
        sent_later = len(world.sandbox.log)
    stdout = first + rest
    assert process.returncode == ExitCode.INTERRUPTED, stderr
    assert stderr.count("\n") == 1 and "interrupted" in stderr
    objects = [json.loads(text) for text in stdout.splitlines()]
    for item in objects:
        fleet_validator().validate(item)
    summary = objects[-1]["summary"]
    assert summary["interrupted"] is True
    assert 1 <= summary["installs"] == len(objects) - 1 < 200
    assert sent_later == sent_at_stop  # nothing more was sent once the run stopped
    report = markdown.read_text(encoding="utf-8")
    assert "## Summary" in report and "Interrupted" in report
    assert not [path for path in tmp_path.iterdir() if path.name.endswith(".tmp")]
    for token in tokens[:50]:
        assert token not in stdout and token not in stderr and token not in report


def test_sandbox_print_installs_feeds_fleet_the_world_the_sandbox_serves(tmp_path: Path) -> None:
    config = tmp_path / "world.yaml"
    config.write_text(
        "generate: {seed: 9, workspaces: 6, label_sets: [all, all, [Read tags]]}\n", encoding="utf-8"
    )
    printed = subprocess.run(
        [sys.executable, "-m", "validator", "sandbox", "--config", str(config), "--print-installs"],
        env=clean_env({}), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    assert len(printed.stdout.splitlines()) == 6
    from validator.sandbox.config import load_config

    with served(yaml_data(config)) as world:
        assert printed.stdout == installs_jsonl(load_config(config))
        run = run_fleet(world.base_url, "--installs", "-", "-f", "jsonl", stdin=printed.stdout)
    summary = json.loads(run.stdout.splitlines()[-1])["summary"]
    assert run.returncode == ExitCode.FAILED
    assert summary["outcomes"] == {"pass": 4, "fail": 2, "error": 0, "inconclusive": 0}


def yaml_data(path: Path) -> dict[str, Any]:
    import yaml

    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data
