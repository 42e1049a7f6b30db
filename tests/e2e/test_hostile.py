"""Acceptance tests of issue 9 ("How it will be judged"), against hostile servers that are not the sandbox.

Each test runs the real CLI as a subprocess against `hostile_server.HostileServer` (stdlib only) on
127.0.0.1, or against no server at all:

- a read answered with the right `type` but the wrong shape is never `granted`;
- with HTTP(S)_PROXY / ALL_PROXY pointing at a loopback listener and a loopback `--api-url`, the listener
  receives nothing (and the API server does receive the requests);
- a token echoed by the server into the workspace name, id, region, error codes, messages and request ids,
  at any offset and length, whole, sliced or case-changed: no 12-character piece of it (case-insensitive)
  reaches stdout, stderr or any report of any format;
- SIGTERM while reports are written leaves each previous report intact or a complete new one, and no
  temporary file behind;
- a broken pipe (or a full or closed stdout) still writes every `--report` file completely, and exits with
  a code of its own and one line on stderr;
- 200 connectors against an API that accepts connections and never answers finish within a bound, every
  verdict inconclusive with a message naming the host (`bench/hung_api.py` runs the judge's exact case);
- a connector name holding a lone surrogate is a lint error with file:line:col, and no command crashes.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import signal
import socket
import string
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hostile_server import (
    READ_ROUTES,
    WORKSPACE_ID,
    HostileServer,
    Reply,
    Request,
    error_body,
    good_reads,
    me_body,
)

from harness import junit_schema, report_validator, sarif_validator
from loopback import ProxyRecorder
from validator.errors import ExitCode

pytestmark = pytest.mark.e2e

FORMATS = ("text", "json", "junit", "sarif", "github", "markdown")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
# Exit codes with another meaning (schemas/report.schema.json, `validate --help`) and Python's crash code.
TAKEN_CODES = {ExitCode.OK, ExitCode.FAILED, ExitCode.TOKEN_REJECTED, ExitCode.INCONCLUSIVE}
CRASH = ExitCode.INTERNAL
ALL_PERMISSIONS = {
    "people": ["read", "write"],
    "companies": ["read", "write"],
    "conversations": ["read", "write"],
    "teams_and_teammates": ["read", "write"],
    "tags": ["read", "write"],
    "workspace_counts": ["read"],
    "data_attributes": ["read", "write"],
}
# Write probes of the catalog, answered as "past the permission check" (a code every one of them accepts).
WRITE_ANSWERS = {
    ("POST", "/contacts/000000000000000000000000/companies"): "not_found",
    ("PUT", "/companies/000000000000000000000000"): "company_not_found",
    ("PUT", "/conversations/0"): "not_found",
    ("PUT", "/admins/0/away"): "admin_not_found",
    ("POST", "/tags"): "parameter_invalid",
    ("PUT", "/data_attributes/0"): "field_not_found",
}


# --- helpers ------------------------------------------------------------------------------------------------


def base_env(**extra: str) -> dict[str, str]:
    """The test process's environment without Intercom, GitHub or proxy settings, plus `extra`."""
    dropped = {name.lower() for name in PROXY_VARIABLES} | {"no_proxy"}
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("INTERCOM_", "GITHUB_")) and name.lower() not in dropped
    }
    env.update(extra)
    return env


def connector_yaml(
    name: str,
    *,
    workspace_id: str = WORKSPACE_ID,
    token_env: str = "INTERCOM_ACCESS_TOKEN",
    permissions: Mapping[str, list[str]] = ALL_PERMISSIONS,
) -> str:
    lines = [
        "version: 1",
        f"name: {name}",
        "platform: intercom",
        "workspace:",
        f"  id: {workspace_id}",
        "  name: Acme Support",
        "  region: us",
        "auth:",
        "  mode: access_token",
        f"  token_env: {token_env}",
        'api_version: "2.15"',
        "permissions:",
        *(f"  {data_type}: [{', '.join(levels)}]" for data_type, levels in permissions.items()),
    ]
    return "\n".join(lines) + "\n"


def only(permission: str) -> dict[str, list[str]]:
    data_type, access = permission.split(":")
    return {data_type: [access]}


def write_connectors(directory: Path, texts: Iterable[str]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, text in enumerate(texts):
        path = directory / f"c{index:03d}.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def report_options(directory: Path, formats: Iterable[str] = FORMATS) -> tuple[dict[str, Path], list[str]]:
    targets = {fmt: directory / f"report.{fmt}" for fmt in formats}
    return targets, [option for fmt, path in targets.items() for option in ("--report", f"{fmt}={path}")]


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "validator", *args]


def run(args: list[str], env: Mapping[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command(*args),
            env=dict(env),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the CLI did not finish within {timeout} s: {' '.join(args[:3])} …", pytrace=False)


def standard_answers(request: Request) -> Reply:
    """A well-behaved Intercom for a token with every permission."""
    reply = good_reads(request)
    if reply is not None:
        return reply
    code = WRITE_ANSWERS.get((request.method, request.path))
    if code is not None:
        status = 400 if code == "parameter_invalid" else 404
        return Reply(status, error_body(code, "Resource Not Found"), {"X-Request-Id": "req-w-1"})
    return Reply(404, error_body("not_found", "Resource Not Found"))


def one_missing(request: Request) -> Reply:
    """Like `standard_answers`, but "Write tags" is missing: every report format then has findings."""
    if (request.method, request.path) == ("POST", "/tags"):
        return Reply(401, error_body("token_unauthorized", "Not authorized to access resource"))
    return standard_answers(request)


def statuses(document: dict[str, Any], index: int) -> dict[str, str]:
    connector = document["connectors"][index]
    return {f"{p['data_type']}:{p['access']}": p["status"] for p in connector["permissions"]}


def assert_one_line(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {stderr!r}"


def assert_complete(fmt: str, text: str, reference: str) -> None:
    """`text` is a whole report in format `fmt`: what `reference` (a complete report of the same run, from an
    undisturbed run) holds, valid against the format's schema where it has one. Compared by content, not
    byte for byte, where a format may hold timings."""
    assert text or not reference, f"the {fmt} report is empty"
    if fmt in ("json", "sarif"):
        document = json.loads(text)
        (report_validator() if fmt == "json" else sarif_validator()).validate(document)
        assert document == json.loads(reference), f"the {fmt} report differs from an undisturbed run's"
    elif fmt == "junit":
        junit_schema().validate(text)
        assert text.count("<testcase") == reference.count("<testcase"), "the junit report lost test cases"
    else:  # text, github, markdown: no schema; a whole report has every line, the last one ended
        lines, expected = text.splitlines(), reference.splitlines()
        assert len(lines) == len(expected) and text.endswith("\n"), (
            f"the {fmt} report looks cut: {len(lines)} of {len(expected)} lines, ends {text[-80:]!r}"
        )
        assert lines[-1] == expected[-1], f"the {fmt} report's last line differs: {lines[-1]!r}"


# --- 1. No false pass: the right `type`, the wrong shape --------------------------------------------------


def _wrong_shapes(body_type: str, key: str | None) -> dict[str, dict[str, Any]]:
    """Bodies with the right `type` whose shape Intercom never sends (the item list missing or not a list
    of objects; for count.hash, the counts missing or not {"count": integer} objects)."""
    if key is None:  # count.hash
        return {
            "type-only": {"type": body_type},
            "string": {"type": body_type, "company": "nope", "user": "nope"},
            "null": {"type": body_type, "company": None, "user": None},
            "object": {"type": body_type, "company": {"count": "nope"}, "user": {"count": "nope"}},
            "number": {"type": body_type, "company": 0, "user": 0},
            "items-not-objects": {"type": body_type, "company": [1], "user": [1]},
            "item-strings": {"type": body_type, "company": ["nope"], "user": ["nope"]},
        }
    return {
        "type-only": {"type": body_type},
        "string": {"type": body_type, key: "nope"},
        "null": {"type": body_type, key: None},
        "object": {"type": body_type, key: {}},
        "number": {"type": body_type, key: 0},
        "items-not-objects": {"type": body_type, key: [1]},
        "item-strings": {"type": body_type, key: ["nope"]},
    }


SHAPE_KINDS = list(_wrong_shapes("list", "data"))
ROUTES = list(READ_ROUTES)


def _shape_run(
    tmp_path: Path, body_for: Callable[[tuple[str, str]], dict[str, Any] | None]
) -> dict[str, Any]:
    """One run, one connector per read route (its own token), declaring only that route's permission.

    `body_for(route)` is the 200 body the route sends to its connector's token (None: the good body); every
    other route answers that token with its good body, so each connector tests exactly one route.
    """
    tokens = {route: f"shapetoken{index:02d}{'x' * 40}" for index, route in enumerate(ROUTES)}
    by_token = {token: route for route, token in tokens.items()}

    def behaviour(request: Request) -> Reply:
        if (request.method, request.path) == ("GET", "/me"):
            return Reply(200, me_body())
        if (request.method, request.path) not in READ_ROUTES:
            return Reply(404, error_body("not_found", "Resource Not Found"))
        owner = by_token.get(request.token or "")
        if owner == (request.method, request.path):
            body = body_for(owner)
            if body is not None:
                return Reply(200, body)
        return Reply(200, READ_ROUTES[(request.method, request.path)][3])

    texts = [
        connector_yaml(
            f"shape-{index}", token_env=f"SHAPE_TOKEN_{index}", permissions=only(READ_ROUTES[route][0])
        )
        for index, route in enumerate(ROUTES)
    ]
    paths = write_connectors(tmp_path / "specs", texts)
    env = base_env(**{f"SHAPE_TOKEN_{index}": tokens[route] for index, route in enumerate(ROUTES)})
    with HostileServer(behaviour) as server:
        done = run(
            [
                "validate",
                *map(str, paths),
                "--format",
                "json",
                "--api-url",
                server.base_url,
                "--retry-budget",
                "0",
            ],
            env,
            timeout=30,
        )
        seen = server.seen()
    assert "Traceback" not in done.stderr, done.stderr
    for method, path in ROUTES:
        assert f"{method} {path}" in seen, f"{method} {path} was never probed"
    document: dict[str, Any] = json.loads(done.stdout)
    assert len(document["connectors"]) == len(ROUTES)
    return document


def _openapi() -> Any:
    """tests/contract/openapi_spec.py, loaded by path (tests/contract is not on this directory's path)."""
    where = Path(__file__).resolve().parents[1] / "contract" / "openapi_spec.py"
    spec = importlib.util.spec_from_file_location("hostile_openapi_spec", where)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("version", ["2.15", "2.16"])
def test_the_hostile_bodies_are_judged_fairly_by_the_openapi_description(version: str) -> None:
    """The good bodies (and /me) validate against the operation's documented 200 schema; every wrong shape
    but "type-only" is refused by it. ("type-only" is valid by the schema, which marks nothing required:
    the issue names it as a body Intercom never sends.) /counts is in no 2.x description."""
    openapi = _openapi()
    description = openapi.load_description(version)
    for (method, path), (_, body_type, key, good) in [
        *READ_ROUTES.items(),
        (("GET", "/me"), ("", "", None, me_body())),
    ]:
        found = openapi.find_operation(description, method, path)
        if path == "/counts":
            assert found is None
            continue
        assert found is not None, f"{method} {path} is not in {version}"
        pointer = openapi.response_schema_pointer(version, found[0], method, 200)
        assert openapi.body_problems(version, pointer, good) == [], (method, path)
        if path == "/me":
            continue
        for kind, body in _wrong_shapes(body_type, key).items():
            problems = openapi.body_problems(version, pointer, body)
            assert bool(problems) == (kind != "type-only"), (method, path, kind, problems)


def test_well_shaped_reads_are_granted_by_the_hostile_server(tmp_path: Path) -> None:
    """Control: the same server with Intercom-shaped bodies is granted everything (so the wrong shapes are
    what the next test's verdicts depend on)."""
    document = _shape_run(tmp_path, lambda route: None)
    for index, route in enumerate(ROUTES):
        assert statuses(document, index) == {READ_ROUTES[route][0]: "granted"}, route


@pytest.mark.parametrize("kind", SHAPE_KINDS)
def test_a_read_with_the_right_type_but_the_wrong_shape_is_never_granted(tmp_path: Path, kind: str) -> None:
    def body_for(route: tuple[str, str]) -> dict[str, Any]:
        _, body_type, key, _ = READ_ROUTES[route]
        return _wrong_shapes(body_type, key)[kind]

    document = _shape_run(tmp_path, body_for)
    granted = []
    for index, route in enumerate(ROUTES):
        permission = READ_ROUTES[route][0]
        if statuses(document, index)[permission] == "granted":
            granted.append(f"{route[0]} {route[1]} → {json.dumps(body_for(route))}")
    assert not granted, "granted on a wrong-shaped body: " + "; ".join(granted)
    assert document["exit_code"] != 0 and document["outcome"] != "pass"


# --- 2. No token leak: proxies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variables", [*([name] for name in PROXY_VARIABLES), list(PROXY_VARIABLES)], ids="+".join
)
def test_proxy_variables_never_receive_a_loopback_request(tmp_path: Path, variables: list[str]) -> None:
    """Proxy variables name a loopback listener, `--api-url` a loopback API: the listener gets no
    connection at all, and the API gets /me and every probe (each evidence has an HTTP status)."""
    spec = write_connectors(tmp_path, [connector_yaml("proxied")])[0]
    with ProxyRecorder() as proxy, HostileServer(standard_answers) as api:
        env = base_env(INTERCOM_ACCESS_TOKEN="proxytoken" + "p" * 40, **dict.fromkeys(variables, proxy.url))
        args = ["validate", str(spec), "--format", "json", "--api-url", api.base_url, "--retry-budget", "0"]
        done = run(args, env, timeout=30)
        time.sleep(0.1)  # a connection still being read is counted before the listener closes
        api_seen = api.seen()
        connections, received = proxy.connections, list(proxy.received)
    assert "Traceback" not in done.stderr, done.stderr
    first_lines = [data.split(b"\r\n", 1)[0] for data in received]  # never the headers: they hold the token
    assert connections == 0, f"the proxy listener got {connections} connection(s): {first_lines!r}"
    assert "GET /me" in api_seen, f"the API server got no /me (exit {done.returncode}): {done.stderr}"
    connector = json.loads(done.stdout)["connectors"][0]
    assert connector["token"]["status"] == "valid", connector["token"]
    unanswered = [
        f"{evidence['method']} {evidence['path']}"
        for permission in connector["permissions"]
        for evidence in permission["evidence"]
        if evidence["http_status"] is None
    ]
    assert connector["permissions"] and not unanswered, f"probes that got no HTTP answer: {unanswered}"
    assert len(api_seen) > len(connector["permissions"]), api_seen


# --- 3. No token leak: fragments ----------------------------------------------------------------------------

PIECE = 12  # any run of this many characters of the token counts as the token
PREFIXES = [0, 1, 5, 7, 8, 12, 19, 20, 100, 150, 176, 180, 187, 188, 190, 199, 200]
ALPHABET = string.ascii_letters + string.digits


def _tokens(length: int, count: int, seed: int) -> list[str]:
    generator = random.Random(seed)
    return ["".join(generator.choices(ALPHABET, k=length)) for _ in range(count)]


PIECES: dict[str, Callable[[str], str]] = {
    "whole": lambda token: token,
    "upper": str.upper,
    "lower": str.lower,
    "swapcase": str.swapcase,
    "slice-12": lambda token: token[5 : 5 + PIECE],
    "slice-37": lambda token: token[3:40],
}


def _grams(text: str) -> set[str]:
    folded = text.lower()
    return {folded[index : index + PIECE] for index in range(len(folded) - PIECE + 1)}


@pytest.mark.parametrize("length", [60, 260])
@pytest.mark.parametrize("piece", list(PIECES))
def test_no_twelve_character_piece_of_an_echoed_token_reaches_any_output(
    tmp_path: Path, piece: str, length: int
) -> None:
    """The server echoes `filler(p) + piece(token)` for every p of PREFIXES (one connector and token each)
    into app.name, app.id_code, app.region, error codes and messages, request ids (body and header), the
    status line's reason, and a malformed status line (an HTTP protocol error's text)."""
    tokens = _tokens(length, len(PREFIXES), seed=length * 31 + len(piece))
    echo_for = {
        token: "_" * prefix + PIECES[piece](token) for token, prefix in zip(tokens, PREFIXES, strict=True)
    }

    def behaviour(request: Request) -> Reply:
        echo = echo_for.get(request.token or "", "unknown-token")
        route = (request.method, request.path)
        header = {"X-Request-Id": echo[:100]}
        if route == ("GET", "/me"):
            return Reply(200, me_body(id_code=echo, name=echo, region=echo), header)
        if route == ("GET", "/tags"):  # not HTTP: h11 quotes the offending status line in its error
            return Reply(raw=f"HTTP/1.1 2{echo[:150]} OK\r\nContent-Length: 0\r\n\r\n".encode())
        if route == ("GET", "/counts"):
            return Reply(200, {"type": "count.hash", "company": {"count": echo}}, header, reason=echo[:150])
        if request.method == "GET" or route == ("POST", "/companies/list"):
            return Reply(401, error_body(echo[:64], echo, request_id=echo[:100]), header, reason=echo[:150])
        message = f"You do not have the required scope ({echo}) to access this resource"
        return Reply(403, error_body("forbidden", message, request_id=echo[:100]), header)

    # Every echo path above, with the fewest requests: /me, a read and a write refused, /tags, /counts.
    declared = {"people": ["read", "write"], "tags": ["read"], "workspace_counts": ["read"]}
    texts = [
        connector_yaml(f"echo-{index}", token_env=f"ECHO_TOKEN_{index}", permissions=declared)
        for index in range(len(tokens))
    ]
    paths = write_connectors(tmp_path / "specs", texts)
    out = tmp_path / "out"
    out.mkdir()
    targets, options = report_options(out)
    summary = out / "step-summary.md"
    env = base_env(
        **{f"ECHO_TOKEN_{index}": token for index, token in enumerate(tokens)},
        GITHUB_STEP_SUMMARY=str(summary),
    )
    with HostileServer(behaviour) as server:
        done = run(
            ["validate", *map(str, paths), "--api-url", server.base_url, "--retry-budget", "0", *options],
            env,
            timeout=30,
        )
        assert len([entry for entry in server.seen() if entry == "GET /me"]) == len(tokens)
    outputs = {"stdout": done.stdout, "stderr": done.stderr}
    for file in sorted(out.iterdir()):
        outputs[file.name] = file.read_text(encoding="utf-8", errors="replace")
    assert targets.keys() <= {name.removeprefix("report.") for name in outputs}, (
        f"reports missing: {outputs.keys()}"
    )
    found_in = {where: _grams(text) for where, text in outputs.items()}
    leaks = []
    for token, prefix in zip(tokens, PREFIXES, strict=True):
        secret = _grams(token)
        for where, grams in found_in.items():
            found = secret & grams
            if found:
                # Where it leaked, with the piece itself masked: a failure message is output too.
                text = outputs[where]
                at = text.lower().find(min(found))
                context = text[max(0, at - 50) : at] + "<token piece>" + text[at + PIECE : at + PIECE + 20]
                context = re.sub(r"[A-Za-z0-9]{6,}", "<…>", context)  # the token's neighbours too
                leaks.append(f"prefix {prefix} → {where}: …{context!r}…")
    assert not leaks, f"{len(leaks)} token piece(s) leaked, e.g. " + "; ".join(leaks[:5])
    assert "Traceback" not in done.stderr, done.stderr


# --- 4. Nothing lost: SIGTERM during a report write ---------------------------------------------------------

SIGNAL_RUNS = 20
SIGNAL_CONNECTORS = 3
OLD_JSON = {
    "format_version": 1,
    "tool": {"name": "connector-validator", "version": "0.0.0-previous"},
    "outcome": "pass",
    "exit_code": 0,
    "connectors": [],
}
OLD_SARIF = {"version": "2.1.0", "runs": []}


def _previous_reports(directory: Path) -> dict[str, str]:
    old = {
        "json": json.dumps(OLD_JSON, indent=2) + "\n",
        "sarif": json.dumps(OLD_SARIF) + "\n",
        "junit": '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="previous" tests="0"/>\n',
        "text": "previous text report\nResult: PASS\n",
        "github": "previous github report\n",
        "markdown": "previous markdown report\n",
    }
    for fmt, text in old.items():
        (directory / f"report.{fmt}").write_text(text, encoding="utf-8")
    return old


def _snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    result = {}
    for entry in os.scandir(directory):
        try:
            info = entry.stat()
        except FileNotFoundError:
            continue
        result[entry.name] = (info.st_size, info.st_mtime_ns)
    return result


def _terminate_when(process: subprocess.Popen[bytes], directory: Path, mode: str, delay: float) -> str:
    """Send SIGTERM after `delay` seconds ("delay") or the moment anything in `directory` changes
    ("on-change"); what happened, for messages."""
    before = _snapshot(directory)
    started = time.monotonic()
    limit = started + 20
    while time.monotonic() < limit and process.poll() is None:
        if mode == "delay" and time.monotonic() - started >= delay:
            break
        if mode == "on-change" and _snapshot(directory) != before:
            break
        time.sleep(0.001)  # well inside the 0.2 s a held-up write lasts
    if process.poll() is not None:
        return f"finished before the signal ({mode})"
    process.send_signal(signal.SIGTERM)
    return f"SIGTERM at {time.monotonic() - started:.3f} s ({mode})"


SLOW_WRITES = Path(__file__).with_name("slow_writes.py")


def test_sigterm_during_report_writes_never_loses_or_truncates_a_report(tmp_path: Path) -> None:
    """SIGNAL_RUNS runs over previous reports of every format, each sent SIGTERM: half of them the moment
    anything in the report folder changes while the first write to each file there is held up (by
    slow_writes.py: half written, a pause, the rest), half at a random moment of a normal run. Afterwards
    each report is its previous content or a whole new report, and the folder holds nothing else."""
    specs = write_connectors(
        tmp_path / "specs", [connector_yaml(f"signal-{index}") for index in range(SIGNAL_CONNECTORS)]
    )
    out = tmp_path / "out"
    out.mkdir()
    targets, options = report_options(out)
    env = base_env(INTERCOM_ACCESS_TOKEN="signaltoken" + "s" * 40)
    slowed = {**env, "SLOW_WRITE_FOLDER": str(out), "SLOW_WRITE_PAUSE": "0.2"}
    generator = random.Random(9)
    problems: list[str] = []
    with HostileServer(one_missing) as server:
        args = ["validate", *map(str, specs), "--api-url", server.base_url, "--retry-budget", "0", *options]
        started = time.monotonic()
        calibration = subprocess.run(command(*args), env=env, capture_output=True, timeout=30)
        duration = time.monotonic() - started
        assert calibration.returncode == 1, calibration.stderr.decode(errors="replace")
        reference = {fmt: path.read_text(encoding="utf-8") for fmt, path in targets.items()}
        assert all(reference.values()), "an undisturbed run wrote an empty report"
        for attempt in range(SIGNAL_RUNS):
            old = _previous_reports(out)
            if attempt % 2 == 0:
                mode, delay = "on-change", 0.0
                process = subprocess.Popen(
                    [sys.executable, str(SLOW_WRITES), *args],
                    env=slowed,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            else:
                mode, delay = "delay", generator.uniform(0.3, 1.1) * duration
                process = subprocess.Popen(
                    command(*args), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
                )
            what = _terminate_when(process, out, mode, delay)
            try:
                _, stderr = process.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                problems.append(f"run {attempt}: {what}, then still running after 15 s")
                continue
            if b"Traceback" in stderr:
                problems.append(f"run {attempt}: {what}: a traceback: {stderr[-300:]!r}")
            leftovers = {entry.name for entry in out.iterdir()} - {path.name for path in targets.values()}
            if leftovers:
                problems.append(
                    f"run {attempt}: {what}: files left in the report folder: {sorted(leftovers)}"
                )
                for name in leftovers:
                    (out / name).unlink()
            for fmt, path in targets.items():
                text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else None
                if text is None:
                    problems.append(f"run {attempt}: {what}: the {fmt} report is gone")
                elif text != old[fmt]:
                    try:
                        assert_complete(fmt, text, reference[fmt])
                    except Exception as error:
                        first = str(error).splitlines()[0][:150] if str(error) else type(error).__name__
                        problems.append(
                            f"run {attempt}: {what}: {fmt} is {len(text)} chars, not whole: {first}"
                        )
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:12])


# --- 5. Nothing lost: a broken pipe, a full or a closed stdout ----------------------------------------------


@pytest.mark.parametrize("stdout", ["broken-pipe", "dev-full", "closed"])
def test_a_stdout_that_cannot_be_written_still_writes_every_report(tmp_path: Path, stdout: str) -> None:
    """A run whose reports would say "a permission is missing" (exit 1), with stdout a pipe whose reader is
    gone, /dev/full, or closed: every --report file is whole, and the exit code says the output failed."""
    if stdout == "dev-full" and not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    spec = write_connectors(tmp_path / "specs", [connector_yaml("piped")])[0]
    reference_folder, out = tmp_path / "reference", tmp_path / "out"
    reference_folder.mkdir()
    out.mkdir()
    env = base_env(INTERCOM_ACCESS_TOKEN="pipetoken" + "q" * 40)
    with HostileServer(one_missing) as server:
        base = ["validate", str(spec), "--api-url", server.base_url, "--retry-budget", "0"]
        expected, reference_options = report_options(reference_folder)
        undisturbed = subprocess.run(
            command(*base, *reference_options), env=env, capture_output=True, timeout=30
        )
        assert undisturbed.returncode == 1, undisturbed.stderr.decode(errors="replace")
        targets, options = report_options(out)
        args = command(*base, *options)
        if stdout == "broken-pipe":
            read_end, write_end = os.pipe()
            os.close(read_end)  # the reader is gone before the first byte
            try:
                done = subprocess.run(args, env=env, stdout=write_end, stderr=subprocess.PIPE, timeout=30)
            finally:
                os.close(write_end)
        elif stdout == "dev-full":
            with open("/dev/full", "wb") as full:
                done = subprocess.run(args, env=env, stdout=full, stderr=subprocess.PIPE, timeout=30)
        else:  # the shell closes fd 1, then runs the CLI in its place
            closed = ["/bin/sh", "-c", 'exec "$@" >&-', "sh", *args]
            done = subprocess.run(closed, env=env, stderr=subprocess.PIPE, timeout=30)
    stderr = done.stderr.decode("utf-8", errors="replace")
    for fmt, path in targets.items():
        assert path.exists(), f"the {fmt} report was not written (exit {done.returncode}, stderr {stderr!r})"
        assert_complete(fmt, path.read_text(encoding="utf-8"), expected[fmt].read_text(encoding="utf-8"))
    assert done.returncode > 0, done.returncode
    assert done.returncode not in TAKEN_CODES | {CRASH}, f"exit {done.returncode}: {stderr!r}"
    assert_one_line(stderr)


# --- 6. Bounded: 200 connectors against an API that never answers -------------------------------------------

HUNG_CONNECTORS = 200
HUNG_BOUND = 10.0
# A hung API may cost one timeout (1 s) plus the retry budget (1 s) over the run's own work, plus slack.
HUNG_SLACK = 6.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_two_hundred_connectors_against_a_hung_api_finish_within_a_bound(tmp_path: Path) -> None:
    """200 connector files (distinct workspaces) against a server that accepts every connection and never
    answers, at --timeout 1 --retry-budget 1: done within HUNG_BOUND seconds, or, on a machine so busy that
    the same run against a closed port (no waiting at all, the run's own work) already takes longer, within
    that time plus HUNG_SLACK. Every verdict is inconclusive, with a message naming the host."""
    texts = [
        connector_yaml(f"hung-{index}", workspace_id=f"ws{index:04d}x") for index in range(HUNG_CONNECTORS)
    ]
    specs = write_connectors(tmp_path / "specs", texts)
    env = base_env(INTERCOM_ACCESS_TOKEN="hungtoken" + "h" * 40)
    args = ["validate", *map(str, specs), "--format", "json", "--timeout", "1"]
    started = time.monotonic()
    refused = run(
        [*args, "--api-url", f"http://127.0.0.1:{_free_port()}", "--retry-budget", "0"], env, timeout=60
    )
    baseline = time.monotonic() - started
    assert refused.returncode == 4, refused.stderr[-300:]
    bound = max(HUNG_BOUND, baseline + HUNG_SLACK)
    with HostileServer(lambda request: None) as server:
        started = time.monotonic()
        done = run([*args, "--api-url", server.base_url, "--retry-budget", "1"], env, timeout=bound + 20)
        wall = time.monotonic() - started
        host = server.host
    assert "Traceback" not in done.stderr, done.stderr
    assert wall < bound, (
        f"{HUNG_CONNECTORS} connectors took {wall:.1f} s against a hung API (bound {bound:.1f} s; "
        f"{baseline:.1f} s against a closed port)"
    )
    document = json.loads(done.stdout)
    assert len(document["connectors"]) == HUNG_CONNECTORS
    assert done.returncode == 4 and document["outcome"] == "inconclusive"
    unnamed = []
    for index, connector in enumerate(document["connectors"]):
        verdicts = set(statuses(document, index).values())
        assert verdicts == {"inconclusive"}, f"{connector['path']}: {verdicts}"
        if host not in json.dumps(connector):
            unnamed.append(connector["path"])
    assert not unnamed, f"{len(unnamed)} connector(s) have no message naming {host}, e.g. {unnamed[0]}"


# --- Nothing lost, never a traceback: a lone surrogate ------------------------------------------------------


def _surrogate_spec(directory: Path) -> Path:
    path = directory / "c.yaml"
    path.write_text(
        connector_yaml("PLACEHOLDER").replace("name: PLACEHOLDER", 'name: "conn\\ud800x"'), "utf-8"
    )
    return path


def test_a_lone_surrogate_in_the_name_is_a_lint_error_with_its_position(tmp_path: Path) -> None:
    """`name: "conn\\ud800x"` (a YAML escape for a lone surrogate) is a lint error at path:line:col in every
    format, never a pass (it cannot be written as UTF-8) and never a crash (exit 70)."""
    path = _surrogate_spec(tmp_path)
    line = 1 + path.read_text(encoding="utf-8").splitlines().index('name: "conn\\ud800x"')
    for fmt in ("text", "json", "sarif", "github", "junit"):
        done = run(["lint", str(path), "--format", fmt], base_env(), timeout=20)
        assert done.returncode == 1, f"lint --format {fmt}: exit {done.returncode}: {done.stderr[-300:]}"
        assert "Traceback" not in done.stderr, done.stderr
        if fmt == "text":
            where = re.compile(re.escape(f"{path}:{line}:") + r"\d+: ")
            assert where.search(done.stdout + done.stderr), done.stdout + done.stderr


def test_a_lone_surrogate_in_a_key_does_not_crash_lint(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(connector_yaml("keyed") + '"\\ud800": 1\n', encoding="utf-8")
    for fmt in ("text", "json", "sarif", "github", "junit"):
        done = run(["lint", str(path), "--format", fmt], base_env(), timeout=20)
        assert done.returncode == 1, f"lint --format {fmt}: exit {done.returncode}: {done.stderr[-300:]}"
        assert "Traceback" not in done.stderr, done.stderr


def test_validate_on_a_lone_surrogate_name_never_crashes_nor_writes_an_empty_report(tmp_path: Path) -> None:
    path = _surrogate_spec(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    targets, options = report_options(out)
    with HostileServer(standard_answers) as server:
        env = base_env(INTERCOM_ACCESS_TOKEN="surrogatetoken" + "u" * 40)
        done = run(["validate", str(path), "--api-url", server.base_url, *options], env, timeout=20)
    assert done.returncode != CRASH, done.stderr[-500:]
    assert done.returncode == 2, (done.returncode, done.stdout[-300:], done.stderr[-300:])
    assert "Traceback" not in done.stderr, done.stderr
    for fmt, target in targets.items():
        if target.exists() and fmt != "github":  # a github report of nothing but a lint error may be short
            assert target.stat().st_size > 0, f"a 0-byte {fmt} report"
    if targets["json"].exists():
        document = json.loads(targets["json"].read_text(encoding="utf-8"))
        report_validator().validate(document)
        assert document["exit_code"] == 2 and document["connectors"][0]["error"], document
