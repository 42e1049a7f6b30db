"""The token never reaches a report, even before the output scrubber (the last line of defence) runs."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopback import LoopbackServer
from validator.formats import Format, render, step_summary
from validator.model import Access, Auth, AuthMode, ConnectorSpec, DataType, Permission, Verdict, Workspace
from validator.pacing import RetryPolicy, Timeouts
from validator.report import Report
from validator.sandbox.app import Sandbox
from validator.sandbox.config import DEFAULT_CONFIG_PATH, SandboxConfig
from validator.sandbox.transport import SandboxTransport
from validator.tokens import FRAGMENT_LENGTH
from validator.validate import Ready, RunOptions, run_checks

CANARY = "dG9rOjAwY2FuYXJ5LXVuaXQtdGVzdC0wMDAwMDAwMDAwMDE="


def pipeline_report(sandbox: Sandbox) -> Report:
    spec = ConnectorSpec(
        path="connector.yaml",
        name="canary",
        workspace=Workspace("abc12xyz", "Acme Support"),
        auth=Auth(AuthMode.OAUTH),
        permissions=tuple(Permission(data_type, access) for data_type in DataType for access in Access)[:13],
    )
    options = RunOptions(
        api_url="http://127.0.0.1",
        retry=RetryPolicy(max_total_wait=0.0),
        transport_factory=lambda: SandboxTransport(sandbox),
    )
    return asyncio.run(run_checks([Ready(spec, CANARY, "INTERCOM_ACCESS_TOKEN")], options))


@pytest.fixture(scope="module")
def canary_sandbox() -> Sandbox:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["tokens"].append(
        {"value": CANARY, "workspace": "abc12xyz", "permissions": ["Read tags", "Read conversations"]}
    )
    data["faults"] = [{"route": "GET /conversations", "kind": "status", "status": 500}]
    return Sandbox(SandboxConfig.from_dict(data))


@pytest.mark.parametrize("fmt", list(Format))
def test_no_format_of_a_real_report_holds_the_token(canary_sandbox: Sandbox, fmt: Format) -> None:
    report = pipeline_report(canary_sandbox)
    verdicts = {result.verdict for result in report.connectors[0].permissions}
    assert {Verdict.GRANTED, Verdict.MISSING, Verdict.INCONCLUSIVE} <= verdicts  # every kind of line
    assert CANARY not in render(fmt, report)
    assert CANARY not in repr(report)


def test_the_sandbox_request_log_masks_the_token(canary_sandbox: Sandbox) -> None:
    pipeline_report(canary_sandbox)
    entries = canary_sandbox.log.entries
    assert entries and all(CANARY not in repr(entry) for entry in entries)


# --- a hostile server echoes the token ------------------------------------------------------------------
#
# Not the project's sandbox: a loopback server written here that puts the token, or any piece of it, cut and
# re-cased at any offset, into the workspace name, id and region, into error codes, messages and request
# ids, and into a broken header line (whose text httpx quotes in its error). No format may then hold any
# 12-character piece of the token, in any case; the output filter of `run.py` is not applied here, so what
# is checked is that nothing reaches a report in the first place.

HOSTILE_TOKENS = (
    "dG9rOmhvc3RpbGUtS2FuYXJ5LWtleS0wMDAxLWZvci10ZXN0cw==",
    "aKk9Zq2wX7pLmN4vB8cR1tY6uJ3hG5fD0sE_kK-9.~:+/Qw",
)
HOSTILE_SPEC = ConnectorSpec(
    path="connector.yaml",
    name="hostile",
    workspace=Workspace("abc12xyz", "Acme Support"),
    auth=Auth(AuthMode.ACCESS_TOKEN),
    permissions=tuple(Permission(data_type, access) for data_type in DataType for access in Access)[:13],
)


@dataclass
class Echo:
    """What the hostile server puts where, for one example."""

    name: str = "Acme Support"
    id_code: str = "abc12xyz"
    region: str = "US"
    request_id: str = "req-1"
    probe: str = "error"  # error: 403 envelope; type: 200 with the echo as type; header: a broken header line
    me_broken: bool = False
    text: str = ""


class HostileServer(LoopbackServer):
    """HTTP/1.1 on 127.0.0.1, one answer per connection, built from the current `Echo`."""

    def __init__(self) -> None:
        self.echo = Echo()
        super().__init__()

    def handle(self, connection: socket.socket) -> None:
        connection.settimeout(5)
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            chunk = connection.recv(65536)
            if not chunk:
                return
            head += chunk
        path = head.split(b" ", 2)[1].decode("ascii", "replace").split("?")[0]
        connection.sendall(self._response(path))

    def _response(self, path: str) -> bytes:
        echo = self.echo
        if (path == "/me" and echo.me_broken) or (path != "/me" and echo.probe == "header"):
            return b"HTTP/1.1 200 OK\r\nX-Echo\x01: " + echo.text.encode("utf-8") + b"\r\n\r\n"
        body: dict[str, Any]
        if path == "/me":
            status, body = (
                200,
                {
                    "type": "admin",
                    "id": "1",
                    "request_id": echo.request_id,
                    "app": {"type": "app", "id_code": echo.id_code, "name": echo.name, "region": echo.region},
                },
            )
        elif echo.probe == "type":
            status, body = 200, {"type": echo.text, "data": [], "request_id": echo.request_id}
        else:
            error = {"code": echo.text, "message": echo.text, "type": echo.text}
            status, body = 403, {"type": "error.list", "request_id": echo.request_id, "errors": [error]}
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        head = (
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(content)}\r\n"
            "Connection: close\r\n"
        ).encode("ascii")
        return head + b"X-Request-Id: " + echo.request_id.encode("utf-8") + b"\r\n\r\n" + content


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.close()


@st.composite
def pieces(draw: st.DrawFn, token: str) -> str:
    """A piece of `token` of 12 characters or more, at any offset, maybe re-cased or broken up, maybe padded
    so that a display cut (20 or 200 characters) falls anywhere inside it."""
    start = draw(st.integers(0, len(token) - FRAGMENT_LENGTH))
    piece = token[start : draw(st.integers(start + FRAGMENT_LENGTH, len(token)))]
    variant = draw(
        st.sampled_from(["as-is", "upper", "lower", "swapcase", "kelvin", "zwsp", "twice", "whole"])
    )
    if variant == "upper":
        piece = piece.upper()
    elif variant == "lower":
        piece = piece.lower()
    elif variant == "swapcase":
        piece = piece.swapcase()
    elif variant == "kelvin":
        piece = piece.replace("k", "\u212a").replace("K", "\u212a")  # lower-cases to "k"
    elif variant == "zwsp":
        cut = draw(st.integers(0, len(piece)))
        piece = piece[:cut] + "\u200b" + piece[cut:]
    elif variant == "twice":
        piece = piece + piece
    elif variant == "whole":
        piece = token
    padding = draw(st.integers(0, 210))
    return draw(st.sampled_from([" ", "x", "-", ""])) * padding + piece


def grams(token: str) -> set[str]:
    folded = token.lower()
    return {folded[start : start + FRAGMENT_LENGTH] for start in range(len(folded) - FRAGMENT_LENGTH + 1)}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_piece_of_an_echoed_token_reaches_any_format(hostile: HostileServer, data: st.DataObject) -> None:
    token = data.draw(st.sampled_from(HOSTILE_TOKENS))
    piece = pieces(token)
    places = data.draw(st.sets(st.sampled_from(["name", "id", "region", "request_id"]), min_size=1))
    hostile.echo = Echo(
        name=data.draw(piece) if "name" in places else "Acme Support",
        id_code=data.draw(piece) if "id" in places else "abc12xyz",
        region=data.draw(piece) if "region" in places else "US",
        request_id=data.draw(piece) if "request_id" in places else "req-1",
        probe=data.draw(st.sampled_from(["error", "type", "header"])),
        me_broken=data.draw(st.booleans()),
        text=data.draw(piece),
    )
    options = RunOptions(
        api_url=hostile.url, timeouts=Timeouts(connect=2, read=2), retry=RetryPolicy(max_total_wait=0.0)
    )
    report = asyncio.run(run_checks([Ready(HOSTILE_SPEC, token, "INTERCOM_ACCESS_TOKEN")], options))
    outputs = {str(fmt): render(fmt, report) for fmt in Format}
    outputs["step summary"] = step_summary(report)
    # Every value the report holds, as text: repr's own escapes decoded, so that the "b" of an escaped
    # "\u200b" is not read as part of the text around it (a false alarm, not a leak).
    outputs["repr"] = ascii(report).encode("ascii").decode("unicode_escape")
    for where, text in outputs.items():
        folded = text.lower()
        leaked = [gram for gram in grams(token) if gram in folded]
        assert not leaked, f"{where} holds {leaked[0]!r}, a piece of the token"


def test_the_hostile_server_does_reach_every_report_field(hostile: HostileServer) -> None:
    """The property above is not empty: without scrubbing, this server's text lands in the report."""
    hostile.echo = Echo(
        name="Acme Support plain", request_id="req-plain-text", probe="error", text="code_plain"
    )
    options = RunOptions(api_url=hostile.url, retry=RetryPolicy(max_total_wait=0.0))
    report = asyncio.run(run_checks([Ready(HOSTILE_SPEC, HOSTILE_TOKENS[0], "X")], options))
    text = render(Format.JSON, report)
    assert "Acme Support plain" in text and "req-plain-text" in text and "code_plain" in text
    hostile.echo = Echo(me_broken=True, text="broken-header-text")
    report = asyncio.run(run_checks([Ready(HOSTILE_SPEC, HOSTILE_TOKENS[0], "X")], options))
    assert "broken-header-text" in render(Format.TEXT, report)
