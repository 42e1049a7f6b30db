"""Attacks on the merged tree of session 16 (issues 10-13), each run by an outsider's stand-in for Intercom.

Every test runs the real CLI as a subprocess against `hostile_server.HostileServer` (stdlib only, never the
project's sandbox) on 127.0.0.1, and checks one hole that was found open:

- a route miss whose message names the request path in another form than verbatim (percent-encoded, its
  parent path, only its id) differed from the route-miss control, so every write answered only by route
  misses was `granted`;
- a malformed `fleet --installs` line with its token under `workspace_id` (fields swapped) printed that
  token in every output;
- SIGINT or SIGTERM mid-fleet, while the reader thread waited for room, printed its CancelledError traceback;
- a forbidden permission with one probe refused (401) and another unanswered (500) was `ok`, "proven
  absent", though the unanswered probe (GET /admins beside GET /teams, the ticket search beside ticket
  types) may be allowed; and `fleet` called such an install undecidable (action `none`, not `retry`);
- a connector forbidding Read tickets was told to tick "Read tickets" by the tickets-hidden warning;
- `fleet` said "GET /me answered 401 unauthorized" where /me answered token_unauthorized and a probe
  rejected the token;
- `validate --report json=connector.yaml` (or `-o`, or through a symlink) replaced the connector.yaml with
  the report, and `fleet --report csv=installs.jsonl` replaced the installs file (its tokens) the same way;
- a /me naming another install's token as the workspace id or region printed it in the fleet line (each
  line is scrubbed of its own token only).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hostile_server import WORKSPACE_ID, HostileServer, Reply, Request, error_body, good_reads, me_body

pytestmark = pytest.mark.e2e

TOKEN = "dG9rOjAwYXR0YWNrLTdmM2UtNDFhYS1iZWVmLWQ0NTZlYjAwMDAwMQ=="
TIMEOUT = 60.0

WRITES = {
    "people": ["write"],
    "companies": ["write"],
    "conversations": ["write"],
    "teams_and_teammates": ["write"],
    "data_attributes": ["write"],
    "tickets": ["write"],
    "articles": ["write"],
    "help_center": ["write"],
    "notes": ["write"],
}


def connector_yaml(permissions: Mapping[str, list[str]], api_version: str | None = '"2.16"') -> str:
    lines = [
        "version: 1",
        "name: attack",
        "platform: intercom",
        "workspace:",
        f"  id: {WORKSPACE_ID}",
        "auth:",
        "  mode: access_token",
        "  token_env: INTERCOM_ACCESS_TOKEN",
        *([f"api_version: {api_version}"] if api_version else []),
        "permissions:",
        *(f"  {data_type}: [{', '.join(levels)}]" for data_type, levels in permissions.items()),
    ]
    return "\n".join(lines) + "\n"


def env_for(server: HostileServer, **extra: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("INTERCOM_", "GITHUB_")) and name not in ("NO_COLOR", "FORCE_COLOR")
    }
    env.update({"INTERCOM_ACCESS_TOKEN": TOKEN, "INTERCOM_API_URL": server.base_url, **extra})
    return env


def cli(
    args: list[str], env: Mapping[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [sys.executable, "-m", "validator", *args],
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=TIMEOUT,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )
    assert "Traceback" not in completed.stderr, completed.stderr
    assert TOKEN[:12] not in completed.stdout + completed.stderr
    return completed


def validate_json(
    tmp_path: Path,
    behaviour: Callable[[Request], Reply | None],
    permissions: Mapping[str, list[str]],
    api_version: str | None = '"2.16"',
) -> tuple[int, dict[str, Any]]:
    spec = tmp_path / "c.yaml"
    spec.write_text(connector_yaml(permissions, api_version), encoding="utf-8")
    with HostileServer(behaviour) as server:
        completed = cli(["validate", str(spec), "-f", "json", "--retry-budget", "0"], env_for(server))
    return completed.returncode, json.loads(completed.stdout)


def statuses(document: dict[str, Any]) -> dict[str, str]:
    return {f"{p['data_type']}.{p['access']}": p["status"] for p in document["connectors"][0]["permissions"]}


# --- route misses that name the path they missed --------------------------------------------------------

ROUTE_MISS_MESSAGES: dict[str, Callable[[Request], str]] = {
    "percent-encoded path": lambda request: f"No route matches {quote(request.path, safe='')}",
    "parent path": lambda request: f"Unknown route {request.path.rsplit('/', 1)[0]}",
    "id only": lambda request: f"Resource {request.path.rsplit('/', 1)[-1]} Not Found",
    "path without its slash": lambda request: f"No route for {request.path.lstrip('/')}",
}


@pytest.mark.parametrize("version", ['"2.15"', '"2.16"'])
@pytest.mark.parametrize("style", sorted(ROUTE_MISS_MESSAGES))
def test_a_route_miss_naming_its_path_in_any_form_grants_no_write(
    tmp_path: Path, style: str, version: str
) -> None:
    message = ROUTE_MISS_MESSAGES[style]

    def behaviour(request: Request) -> Reply:
        if request.path == "/me":
            return Reply(200, me_body())
        return Reply(404, error_body("not_found", message(request)))  # no write route is served

    code, document = validate_json(tmp_path, behaviour, WRITES, version)
    granted = [name for name, status in statuses(document).items() if status == "granted"]
    assert granted == [], f"granted on route misses alone: {granted}"
    assert code == 4


# --- fleet: a line with its fields mixed up ----------------------------------------------------------------

OTHER_TOKEN = "dG9rOjAwc2Vjb25kLTdmM2UtNDFhYS1iZWVmLWQ0NTZlYjAwMDAwMg=="


def fragments(secret: str, size: int = 12) -> set[str]:
    return {secret[start : start + size].lower() for start in range(len(secret) - size + 1)}


def assert_no_fragment(texts: Mapping[str, str], *secrets: str) -> None:
    for where, text in texts.items():
        lowered = text.lower()
        for secret in secrets:
            leaked = sorted(piece for piece in fragments(secret) if piece in lowered)
            assert not leaked, f"a 12-character piece of a token reached {where}: {leaked[:1]}"


def good_world(request: Request) -> Reply:
    return good_reads(request) or Reply(404, error_body("not_found", "Resource Not Found"))


@pytest.mark.parametrize("fmt", ["text", "jsonl"])
def test_a_malformed_install_line_never_repeats_a_token_under_another_field(tmp_path: Path, fmt: str) -> None:
    spec = tmp_path / "c.yaml"
    spec.write_text(connector_yaml({"tags": ["read"]}), encoding="utf-8")
    lines = [
        {"workspace_id": TOKEN, "token": WORKSPACE_ID},  # the two fields swapped
        {"workspace_id": WORKSPACE_ID, "token": OTHER_TOKEN, "label": "x " + OTHER_TOKEN, "region": "mars"},
        {"workspace_id": OTHER_TOKEN, "token": "short"},
        {"workspace_id": WORKSPACE_ID, "token": TOKEN, "label": TOKEN},  # a valid line: scrubbed on output
    ]
    stdin = "".join(json.dumps(line) + "\n" for line in lines)
    reports = {name: tmp_path / f"r.{name}" for name in ("markdown", "csv", "jsonl")}
    options = [option for name, path in reports.items() for option in ("--report", f"{name}={path}")]
    with HostileServer(good_world) as server:
        completed = cli(
            ["fleet", str(spec), "--installs", "-", "-f", fmt, *options], env_for(server), stdin=stdin
        )
    assert completed.returncode == 2, completed.stderr
    texts = {"stdout": completed.stdout, "stderr": completed.stderr}
    texts.update({name: path.read_text(encoding="utf-8") for name, path in reports.items()})
    assert_no_fragment(texts, TOKEN, OTHER_TOKEN)
    assert "line 1" in completed.stdout or '"line": 1' in completed.stdout


# --- fleet: a signal while the reader waits for room in the queue ------------------------------------------


FLEET = [sys.executable, "-m", "validator", "fleet"]


def slow_me(request: Request) -> Reply:
    if request.path == "/me":
        time.sleep(0.05)
    return good_world(request)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_fleet_prints_no_traceback_from_the_reader_thread(tmp_path: Path, signum: int) -> None:
    spec = tmp_path / "c.yaml"
    spec.write_text(connector_yaml({"tags": ["read"]}), encoding="utf-8")
    tokens = [f"{TOKEN[:-8]}{index:06d}==" for index in range(400)]
    stdin = "".join(json.dumps({"workspace_id": WORKSPACE_ID, "token": token}) + "\n" for token in tokens)
    expected = {int(signal.SIGINT): 130, int(signal.SIGTERM): 143}[signum]
    with HostileServer(slow_me) as server:
        for _ in range(3):  # the reader is cancelled while it waits: seen in most runs, not all
            process = subprocess.Popen(
                [*FLEET, str(spec), "--installs", "-", "-f", "jsonl", "--concurrency", "1"],
                env=env_for(server),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            writer = threading.Thread(target=feed, args=(process, stdin), daemon=True)
            writer.start()
            assert process.stdout is not None
            first = process.stdout.readline()  # the first install is decided: the run is under way
            assert first.startswith('{"line"'), first
            time.sleep(1.0)  # several installs in: the reader is waiting for room in the queue
            process.send_signal(signum)
            killer = threading.Timer(30, process.kill)  # bounded: a hung run is killed, and fails below
            killer.start()
            try:
                assert process.stdout is not None and process.stderr is not None
                stdout, stderr = first + process.stdout.read(), process.stderr.read()
                process.wait(timeout=30)
            finally:
                killer.cancel()
            assert process.returncode == expected, stderr
            assert "Traceback" not in stderr, stderr
            # One line, or two on a loaded machine where the clean-up outlasts its grace ("stopped ...").
            assert all(line.startswith("connector-validator: ") for line in stderr.splitlines()), stderr
            assert json.loads(stdout.splitlines()[-1])["summary"]["interrupted"] is True


def feed(process: subprocess.Popen[str], text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        assert process.stdin is not None
        process.stdin.write(text)
        process.stdin.close()


# --- policy: a forbidden permission half answered -------------------------------------------------------

REFUSED = Reply(401, error_body("token_unauthorized", "Not authorized to access resource"))
BROKEN = Reply(500, error_body("server_error", "Internal server error"))
OBJECT_ID = "000000000000000000000000"
HALF_ANSWERED = {
    "teams_and_teammates.read, /admins unanswered": {("GET", "/admins"): BROKEN, ("GET", "/teams"): REFUSED},
    "teams_and_teammates.read, /teams unanswered": {("GET", "/admins"): REFUSED, ("GET", "/teams"): BROKEN},
    "tickets.read, the search unanswered": {
        ("POST", "/tickets/search"): BROKEN,
        ("GET", "/ticket_types"): REFUSED,
        ("GET", "/ticket_states"): REFUSED,
    },
    "help_center.read, help centers unanswered": {
        ("GET", "/help_center/collections"): REFUSED,
        ("GET", "/help_center/help_centers"): BROKEN,
    },
    "notes.read, company notes unanswered": {
        ("GET", f"/contacts/{OBJECT_ID}/notes"): REFUSED,
        ("GET", f"/companies/{OBJECT_ID}/notes"): BROKEN,
    },
    "conversations.write, POST unanswered": {
        ("PUT", "/conversations/0"): REFUSED,
        ("POST", "/conversations"): BROKEN,
    },
}


@pytest.mark.parametrize("case", sorted(HALF_ANSWERED))
def test_a_forbidden_permission_with_one_probe_refused_and_another_unanswered_is_not_ok(
    tmp_path: Path, case: str
) -> None:
    answers = HALF_ANSWERED[case]
    data_type, access = case.split(",")[0].split(".")

    def behaviour(request: Request) -> Reply:
        return answers.get((request.method, request.path)) or good_world(request)

    spec = tmp_path / "c.yaml"
    text = connector_yaml({"tags": ["read"]}) + f"policy:\n  forbidden:\n    {data_type}: [{access}]\n"
    spec.write_text(text, encoding="utf-8")
    with HostileServer(behaviour) as server:
        completed = cli(["validate", str(spec), "-f", "json", "--retry-budget", "0"], env_for(server))
    entry = next(
        p
        for p in json.loads(completed.stdout)["connectors"][0]["permissions"]
        if (p["data_type"], p["access"]) == (data_type, access)
    )
    assert entry["declared"] == "forbidden"
    assert entry["outcome"] == "inconclusive", entry
    assert completed.returncode == 4


def test_fleet_asks_to_retry_a_forbidden_permission_with_one_probe_unanswered(tmp_path: Path) -> None:
    answers = HALF_ANSWERED["teams_and_teammates.read, /admins unanswered"]

    def behaviour(request: Request) -> Reply:
        return answers.get((request.method, request.path)) or good_world(request)

    spec = tmp_path / "c.yaml"
    text = connector_yaml({"tags": ["read"]}) + "policy:\n  forbidden:\n    teams_and_teammates: [read]\n"
    spec.write_text(text, encoding="utf-8")
    stdin = json.dumps({"workspace_id": WORKSPACE_ID, "token": TOKEN}) + "\n"
    with HostileServer(behaviour) as server:
        completed = cli(
            [*FLEET[3:], str(spec), "--installs", "-", "-f", "jsonl", "--retry-budget", "0"],
            env_for(server),
            stdin=stdin,
        )
    install = json.loads(completed.stdout.splitlines()[0])
    assert (install["outcome"], install["action"]) == ("inconclusive", "retry"), install
    assert "no probe can decide" not in install["reason"]
    assert completed.returncode == 4


# --- policy: the tickets warning against a forbidden Read tickets ------------------------------------------


def test_no_advice_to_tick_read_tickets_where_the_policy_forbids_it(tmp_path: Path) -> None:
    refused = {("POST", "/tickets/search"), ("GET", "/ticket_types"), ("GET", "/ticket_states")}

    def behaviour(request: Request) -> Reply:
        return REFUSED if (request.method, request.path) in refused else good_world(request)

    spec = tmp_path / "c.yaml"
    forbids = "policy:\n  forbidden:\n    tickets: [read]\n"
    spec.write_text(connector_yaml({"conversations": ["read"]}) + forbids, encoding="utf-8")
    with HostileServer(behaviour) as server:
        completed = cli(["validate", str(spec), "-f", "json"], env_for(server))
    connector = json.loads(completed.stdout)["connectors"][0]
    assert [w["code"] for w in connector["warnings"]] == []
    tickets = [p for p in connector["permissions"] if p["data_type"] == "tickets"]
    assert [(p["declared"], p["outcome"]) for p in tickets] == [("forbidden", "ok")]
    assert completed.returncode == 0
    # Without the policy, the same token gets the warning (the test above is not vacuous).
    spec.write_text(connector_yaml({"conversations": ["read"]}), encoding="utf-8")
    with HostileServer(behaviour) as server:
        completed = cli(["validate", str(spec), "-f", "json"], env_for(server))
    warnings = json.loads(completed.stdout)["connectors"][0]["warnings"]
    assert [w["code"] for w in warnings] == ["tickets_hidden_from_conversations"]


def test_fleet_names_the_probe_that_rejected_a_token_refused_get_me(tmp_path: Path) -> None:
    def behaviour(request: Request) -> Reply:
        if request.path == "/me":
            return REFUSED  # a valid token that may not read /me
        if request.path == "/tags":
            return Reply(401, error_body("unauthorized", "Access Token Invalid"))
        return good_world(request)

    spec = tmp_path / "c.yaml"
    spec.write_text(connector_yaml({"tags": ["read"]}), encoding="utf-8")
    stdin = json.dumps({"workspace_id": WORKSPACE_ID, "token": TOKEN}) + "\n"
    with HostileServer(behaviour) as server:
        completed = cli(
            [*FLEET[3:], str(spec), "--installs", "-", "-f", "jsonl"], env_for(server), stdin=stdin
        )
    install = json.loads(completed.stdout.splitlines()[0])
    assert install["action"] == "token_rejected"
    assert "GET /tags answered 401 unauthorized" in install["reason"], install["reason"]
    assert "GET /me answered" not in install["reason"]
    assert completed.returncode == 3


# --- a report aimed at an input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "prefix", "through_link"),
    [
        ("--report", "json=", False),
        ("-o", "", False),
        ("--report", "junit=", True),
    ],
)
def test_validate_refuses_a_report_that_would_replace_its_connector_yaml(
    tmp_path: Path, option: str, prefix: str, through_link: bool
) -> None:
    spec = tmp_path / "c.yaml"
    text = connector_yaml({"tags": ["read"]})
    spec.write_text(text, encoding="utf-8")
    target = spec
    if through_link:
        target = tmp_path / "link-to-c.yaml"
        target.symlink_to(spec)
    with HostileServer(good_world) as server:
        completed = cli(["validate", str(spec), option, f"{prefix}{target}"], env_for(server))
        sent = server.seen()
    assert completed.returncode == 2, completed.stderr
    assert "input of this run" in completed.stderr and completed.stderr.count("\n") == 1
    assert spec.read_text(encoding="utf-8") == text
    assert sent == []


@pytest.mark.parametrize("which", ["installs", "connector"])
def test_fleet_refuses_a_report_that_would_replace_its_installs_or_connector(
    tmp_path: Path, which: str
) -> None:
    spec = tmp_path / "c.yaml"
    spec.write_text(connector_yaml({"tags": ["read"]}), encoding="utf-8")
    installs = tmp_path / "installs.jsonl"
    installs.write_text(json.dumps({"workspace_id": WORKSPACE_ID, "token": TOKEN}) + "\n", encoding="utf-8")
    installs.chmod(0o600)
    before = {path: path.read_bytes() for path in (spec, installs)}
    target = installs if which == "installs" else spec
    with HostileServer(good_world) as server:
        completed = cli(
            ["fleet", str(spec), "--installs", str(installs), "--report", f"csv={target}"], env_for(server)
        )
        sent = server.seen()
    assert completed.returncode == 2, completed.stderr
    assert "input of this run" in completed.stderr
    assert {path: path.read_bytes() for path in before} == before
    assert sent == []


# --- fleet: one install's answer carrying another install's token -----------------------------------------

DISTINCT_TOKENS = [
    "dG9rOkNIwI6Ho3jnjDB+nFkeVzQRa3kXGnX9j0y+abcDEF012345",
    "dG9rOkKU0F2+Zq8wYtR1mNsPxLcVbHjGfDaSe7u9ihgFED543210",
    "dG9rOkX7pQ2rTs9vWu1yZa3cBd5eFg7hIj9kLm1nOp3qRs5tUv7w",
]


def test_fleet_never_shows_a_workspace_id_of_a_token_shape(tmp_path: Path) -> None:
    """A stand-in (or a confused proxy) whose /me names another install's token as the workspace: each line
    is scrubbed of its own token only (memory stays flat), so such an id must not be shown at all."""

    def behaviour(request: Request) -> Reply:
        other = next(token for token in DISTINCT_TOKENS if token != request.token)
        if request.path == "/me":
            return Reply(200, me_body(id_code=other))
        return good_world(request)

    spec = tmp_path / "c.yaml"
    spec.write_text(connector_yaml({"tags": ["read"]}), encoding="utf-8")
    stdin = "".join(
        json.dumps({"workspace_id": WORKSPACE_ID, "token": token}) + "\n" for token in DISTINCT_TOKENS
    )
    reports = {name: tmp_path / f"r.{name}" for name in ("markdown", "csv", "jsonl")}
    options = [option for name, path in reports.items() for option in ("--report", f"{name}={path}")]
    with HostileServer(behaviour) as server:
        completed = cli(["fleet", str(spec), "--installs", "-", *options], env_for(server), stdin=stdin)
    assert completed.returncode == 20, completed.stderr
    texts = {"stdout": completed.stdout, "stderr": completed.stderr}
    texts.update({name: path.read_text(encoding="utf-8") for name, path in reports.items()})
    assert_no_fragment(texts, *DISTINCT_TOKENS)
    lines = [json.loads(line) for line in texts["jsonl"].splitlines()[:-1]]
    assert {(line["action"], line["found_workspace_id"]) for line in lines} == {("wrong_workspace", None)}


def test_fleet_never_shows_a_region_long_enough_to_hold_a_piece_of_a_token(tmp_path: Path) -> None:
    def behaviour(request: Request) -> Reply:
        other = next(token for token in DISTINCT_TOKENS if token != request.token)
        if request.path == "/me":
            return Reply(200, me_body(region=other))
        return good_world(request)

    spec = tmp_path / "c.yaml"
    spec.write_text(connector_yaml({"tags": ["read"]}), encoding="utf-8")
    stdin = "".join(
        json.dumps({"workspace_id": WORKSPACE_ID, "token": token}) + "\n" for token in DISTINCT_TOKENS
    )
    with HostileServer(behaviour) as server:
        completed = cli(["fleet", str(spec), "--installs", "-", "-f", "jsonl"], env_for(server), stdin=stdin)
    assert completed.returncode == 1, completed.stderr
    assert_no_fragment({"stdout": completed.stdout, "stderr": completed.stderr}, *DISTINCT_TOKENS)
    assert all(json.loads(line)["action"] == "fix_input" for line in completed.stdout.splitlines()[:-1]), (
        completed.stdout
    )
