"""Terminal and CLI conventions of `validate` as a user meets them (issue 13 items 8 and 9): `-q`, `-v`,
`--color` with NO_COLOR / FORCE_COLOR / TERM=dumb, on a real terminal (a pty) and through pipes, and the
line that says a host is being waited for.

Every run through `run_cli` also writes every side report, so each of these checks as well that report
files never get colour and that no token reaches any output.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from hostile_server import HostileServer

from harness import CANARY, EXAMPLE, clean_env, run_cli, served

pytestmark = pytest.mark.e2e

ESC = "\x1b["
SGR = re.compile(r"\x1b\[[0-9;]*m")
RESULT = "Result: PASS (exit 0: every declared permission is granted)\n"


def on_a_terminal(args: list[str], env: Mapping[str, str]) -> tuple[int, str]:
    """Run the CLI with stdout and stderr on one pseudo-terminal; what the terminal showed, and the code."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "validator", *args], env=dict(env), stdout=terminal, stderr=terminal
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    code = process.wait(timeout=60)
    os.close(controller)
    text = shown.decode("utf-8", "replace")
    assert CANARY not in text and "Traceback" not in text
    return code, text


def test_auto_colours_the_text_report_on_a_terminal_and_nothing_else() -> None:
    with served() as world:
        env = clean_env(
            {"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": world.base_url, "TERM": "xterm"}
        )
        code, shown = on_a_terminal(["validate", str(EXAMPLE)], env)
        piped = run_cli("validate", str(EXAMPLE), env=env)
    assert code == 0
    assert "\x1b[32mgranted\x1b[0m" in shown and "\x1b[1;32mResult: PASS\x1b[0m" in shown
    assert ESC not in piped.stdout and piped.stdout.endswith(RESULT)
    assert all(ESC not in text for text in piped.reports.values())


@pytest.mark.parametrize(
    ("variables", "expect_color"),
    [
        ({"NO_COLOR": "1"}, False),
        ({"NO_COLOR": ""}, True),  # empty: not set (no-color.org)
        ({"TERM": "dumb"}, False),
        ({"TERM": "dumb", "FORCE_COLOR": "1"}, True),
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
    ],
)
def test_the_environment_decides_colour_on_a_terminal(variables: dict[str, str], expect_color: bool) -> None:
    with served() as world:
        env = clean_env(
            {
                "INTERCOM_ACCESS_TOKEN": CANARY,
                "INTERCOM_API_URL": world.base_url,
                "TERM": "xterm",
                **variables,
            }
        )
        code, shown = on_a_terminal(["validate", str(EXAMPLE)], env)
    assert code == 0
    assert (SGR.search(shown) is not None) is expect_color, shown[-300:]


def test_term_dumb_shows_no_progress_line() -> None:
    with served() as world:
        base = {"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": world.base_url}
        _, smart = on_a_terminal(["validate", str(EXAMPLE)], clean_env({**base, "TERM": "xterm"}))
        _, dumb = on_a_terminal(["validate", str(EXAMPLE)], clean_env({**base, "TERM": "dumb"}))
    assert "\r\x1b[2K" in smart and "tags:read granted" in smart
    assert ESC not in dumb and "\r" not in dumb.replace("\r\n", "\n")
    assert "Result: PASS" in dumb


@pytest.mark.parametrize(
    ("args", "variables", "expect_color"),
    [
        (["--color", "always"], {}, True),
        (["--color", "always"], {"NO_COLOR": "1"}, True),  # the flag beats the environment
        ([], {"FORCE_COLOR": "1"}, True),  # FORCE_COLOR colours a pipe too
        (["--color", "never"], {"FORCE_COLOR": "1"}, False),
        (["--color", "auto"], {}, False),  # a pipe is not a terminal
    ],
)
def test_colour_through_a_pipe(args: list[str], variables: dict[str, str], expect_color: bool) -> None:
    with served() as world:
        env = {"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": world.base_url, **variables}
        run = run_cli("validate", str(EXAMPLE), *args, env=env)
    assert run.code == 0
    assert (ESC in run.stdout) is expect_color
    assert SGR.sub("", run.stdout).endswith(RESULT)
    assert all(ESC not in text for text in run.reports.values()), "colour in a --report file"


def test_colour_never_reaches_a_machine_format_or_the_output_file(tmp_path: Path) -> None:
    output = tmp_path / "report.txt"
    with served() as world:
        env = {"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": world.base_url, "FORCE_COLOR": "1"}
        as_json = run_cli("validate", str(EXAMPLE), "--format", "json", "--color", "always", env=env)
        to_file = run_cli("validate", str(EXAMPLE), "--output", str(output), "--color", "always", env=env)
    assert as_json.code == 0 and ESC not in as_json.stdout and as_json.stdout.startswith("{")
    assert to_file.code == 0 and ESC not in output.read_text(encoding="utf-8")
    assert ESC in to_file.stdout  # stdout then gets the text report, which may be coloured


def test_quiet_prints_the_result_line_alone_and_keeps_report_files_whole() -> None:
    with served() as world:
        env = {"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": world.base_url}
        run = run_cli("validate", str(EXAMPLE), "-q", env=env)
        json_run = run_cli("validate", str(EXAMPLE), "--quiet", "--format", "json", env=env)
    assert (run.code, run.stdout, run.stderr) == (0, RESULT, "")
    assert len(json.loads(run.reports["json"])["connectors"][0]["permissions"]) == 13  # the whole report
    assert json_run.code == 0 and json_run.stdout.startswith("{")  # a machine format stays whole


def test_quiet_still_prints_errors(tmp_path: Path) -> None:
    """Connectors that could not be checked at all keep a line each; usage errors stay on stderr."""
    missing = tmp_path / "missing.yaml"
    run = run_cli("validate", str(missing), str(EXAMPLE), "-q", env={"INTERCOM_ACCESS_TOKEN": ""})
    assert run.code == 2
    lines = run.stdout.splitlines()
    assert lines[0] == f"error: {missing}: cannot read: no such file"
    assert lines[1].startswith(f"{EXAMPLE}: token MISSING: the environment variable INTERCOM_ACCESS_TOKEN")
    assert lines[2:] == ["Result: ERROR (exit 2: a usage or connector.yaml error)"]
    usage = run_cli("validate", str(EXAMPLE), "-q", "--report", "nonsense")
    assert usage.code == 2 and usage.stderr.startswith(
        "connector-validator: error: --report expects FORMAT=FILE"
    )


def test_quiet_and_verbose_together_are_a_usage_error() -> None:
    run = run_cli("validate", str(EXAMPLE), "-q", "-v")
    assert (
        run.code == 2
        and run.stderr == "connector-validator: error: --quiet and --verbose cannot be used together\n"
    )


def test_verbose_shows_every_request_and_its_status_never_a_body_or_the_token() -> None:
    with served() as world:
        env = {"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": world.base_url}
        run = run_cli("validate", str(EXAMPLE), "-v", env=env)
        sent = world.paths_sent()
    host = world.base_url.removeprefix("http://")
    lines = run.stderr.splitlines()
    assert run.code == 0 and len(lines) == len(sent) and len(sent) > 10
    line = re.compile(
        rf"connector-validator: {re.escape(str(EXAMPLE))}: (GET|POST|PUT|DELETE) (/\S*) → (\d{{3}}) from "
        rf"{re.escape(host)} \(request id [0-9a-f]+, attempt 1, \d+ ms\)"
    )
    shown = []
    for text in lines:
        match = line.fullmatch(text)
        assert match is not None, text
        shown.append(f"{match[1]} {match[2]}")
    assert sorted(shown) == sorted(sent)
    assert "GET /me" in shown and "{" not in run.stderr  # no body
    assert run.stdout.endswith(RESULT)


def test_verbose_shows_why_an_attempt_got_no_answer() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": f"http://127.0.0.1:{port}"}
    run = run_cli("validate", str(EXAMPLE), "-v", "--retry-budget", "1", env=env)
    assert run.code == 4
    refused = f"connector-validator: {EXAMPLE}: GET /me → no answer: 127.0.0.1:{port}: connection refused"
    attempts = [line for line in run.stderr.splitlines() if line.startswith(refused)]
    assert [re.search(r"attempt (\d)", line)[1] for line in attempts] == ["1", "2"]  # type: ignore[index]


def test_quiet_names_an_unreachable_host() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": f"http://127.0.0.1:{port}"}
    run = run_cli("validate", str(EXAMPLE), "-q", "--retry-budget", "0", env=env)
    assert (run.code, run.stderr) == (4, "")
    assert run.stdout.splitlines() == [
        f"{EXAMPLE}: token unknown: GET /me: no answer: 127.0.0.1:{port}: connection refused",
        "Result: INCONCLUSIVE (exit 4: some checks could not be decided)",
    ]


def test_a_host_that_accepts_and_never_answers_is_named_on_stderr_once(tmp_path: Path) -> None:
    """Two connectors, one hung host, stderr a pipe (as in CI): one 'still waiting' line, naming the host,
    the seconds waited and the timeout; the report says the same host timed out."""
    second = tmp_path / "second.yaml"
    second.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    with HostileServer(lambda request: None) as server:
        env = {"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": server.base_url}
        run = run_cli(
            "validate",
            str(EXAMPLE),
            str(second),
            "--timeout",
            "6",
            "--retry-budget",
            "0",
            env=env,
            timeout=90,
        )
        host = server.host
    assert run.code == 4
    assert run.stderr == f"connector-validator: still waiting for {host} (no answer for 5 s; --timeout 6)\n"
    assert f"GET /me: no answer: {host}: timed out (nothing received for 6 s)" in run.stdout


def test_a_prompt_answer_says_nothing_on_stderr() -> None:
    with served() as world:
        run = run_cli(
            "validate",
            str(EXAMPLE),
            env={"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": world.base_url},
        )
    assert run.code == 0 and run.stderr == ""


def test_init_also_names_a_host_that_never_answers(tmp_path: Path) -> None:
    output = tmp_path / "connector.yaml"
    with HostileServer(lambda request: None) as server:
        env = {"INTERCOM_ACCESS_TOKEN": CANARY}
        run = run_cli(
            "init", "--api-url", server.base_url, "-o", str(output), "--timeout", "6", env=env, timeout=90
        )
        host = server.host
    assert run.code == 4 and not output.exists()
    first, *rest = run.stderr.splitlines()
    assert first == f"connector-validator: still waiting for {host} (no answer for 5 s; --timeout 6)"
    assert len(rest) == 1 and rest[0].startswith("connector-validator: error: ") and host in rest[0]


def test_init_verbose_shows_every_request_it_sends(tmp_path: Path) -> None:
    output = tmp_path / "connector.yaml"
    with served() as world:
        env = {"INTERCOM_ACCESS_TOKEN": CANARY}
        run = run_cli("init", "--api-url", world.base_url, "-o", str(output), "-v", env=env)
        sent = world.paths_sent()
    host = world.base_url.removeprefix("http://")
    assert run.code == 0 and output.exists()
    line = re.compile(
        rf"connector-validator: (GET|POST|PUT|DELETE) (/\S*) → \d{{3}} from {re.escape(host)} \(.*\)"
    )
    shown = []
    for text in run.stderr.splitlines():
        match = line.fullmatch(text)
        assert match is not None, text
        shown.append(f"{match[1]} {match[2]}")
    assert sorted(shown) == sorted(sent) and "GET /me" in shown


@pytest.mark.parametrize(("variables", "expect_color"), [({"FORCE_COLOR": "1"}, True), ({}, False)])
def test_the_demo_follows_the_same_colour_conventions(variables: dict[str, str], expect_color: bool) -> None:
    run = run_cli("demo", env=variables)
    assert run.code == 0 and (ESC in run.stdout) is expect_color
    assert "tags                 write   MISSING" in SGR.sub("", run.stdout)


def test_the_demo_on_a_terminal_honours_no_color() -> None:
    code, shown = on_a_terminal(["demo"], clean_env({"TERM": "xterm", "NO_COLOR": "1"}))
    assert code == 0 and SGR.search(shown) is None and "MISSING" in shown
