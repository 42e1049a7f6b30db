"""A server that answers every read with the right `type` but not Intercom's documented shape passes nothing.

Not the project's sandbox: a small hostile server on loopback, as a proxy, a mock built from a `type` string
or a half-broken gateway would answer. `/me` is answered correctly, so the token is valid and every read
is probed; each read then gets a body of its documented `type` whose rest is missing or wrong. No read may
be `granted`, and the run must not exit 0 (issue 9, item 1).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from harness import CANARY, run_cli

pytestmark = pytest.mark.e2e

ME = {
    "type": "admin",
    "id": "991267459",
    "email": "admin1@email.com",
    "name": "Ciaran1 Lee",
    "app": {"type": "app", "id_code": "abc12xyz", "name": "Acme Support", "region": "US"},
}
# The `type` and the array each read's answer documents (OpenAPI 2.15/2.16; /counts: API-NOTES §5).
READS = {
    "/contacts": ("list", "data"),
    "/companies/list": ("list", "data"),
    "/conversations": ("conversation.list", "conversations"),
    "/admins": ("admin.list", "admins"),
    "/teams": ("team.list", "teams"),
    "/tags": ("list", "data"),
    "/counts": ("count.hash", "company"),
    "/data_attributes": ("list", "data"),
}
SPEC = """\
version: 1
name: hostile-shapes
platform: intercom
workspace: {id: abc12xyz, name: Acme Support, region: us}
auth: {mode: access_token}
permissions:
  people: [read]
  companies: [read]
  conversations: [read]
  teams_and_teammates: [read]
  tags: [read]
  workspace_counts: [read]
  data_attributes: [read]
"""
WRONG_SHAPES: dict[str, Callable[[str, str], dict[str, Any]]] = {
    "type only": lambda body_type, key: {"type": body_type},
    "array is a string": lambda body_type, key: {"type": body_type, key: "nope"},
    "items of another type": lambda body_type, key: {"type": body_type, key: [{"type": "error.list"}]},
    "items not objects": lambda body_type, key: {"type": body_type, key: [1, 2]},
}


@contextmanager
def hostile(wrong: Callable[[str, str], dict[str, Any]]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            path = self.path.split("?", 1)[0]
            body: Any
            if path == "/me":
                body = ME
            elif path in READS:
                body = wrong(*READS[path])
            else:
                body = {"type": "error.list", "errors": [{"code": "not_found", "message": "nope"}]}
            data = json.dumps(body).encode()
            self.send_response(200 if path == "/me" or path in READS else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("wrong", WRONG_SHAPES.values(), ids=WRONG_SHAPES.keys())
def test_no_read_is_granted_on_a_body_of_the_right_type_but_the_wrong_shape(
    tmp_path: Path, wrong: Callable[[str, str], dict[str, Any]]
) -> None:
    spec = tmp_path / "connector.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    with hostile(wrong) as base_url:
        run = run_cli(
            "validate", str(spec), "--format", "json",
            env={"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": base_url},
            timeout=30,
        )  # fmt: skip
    report = json.loads(run.stdout)
    [connector] = report["connectors"]
    assert connector["token"]["status"] == "valid"
    statuses = {p["data_type"]: p["status"] for p in connector["permissions"]}
    assert set(statuses.values()) == {"inconclusive"}, statuses
    assert run.code == 4 and report["outcome"] == "inconclusive"
    notes = [e["note"] for p in connector["permissions"] for e in p["evidence"]]
    assert all("did not have the shape Intercom documents" in (note or "") for note in notes), notes
