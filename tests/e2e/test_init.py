"""`connector-validator init` end to end: a connector.yaml written from what a sandbox token is granted.

Each written file must load with `load_spec` (so `lint` passes), declare exactly the permissions the token
has, and pass `validate` with the same token.
"""

from __future__ import annotations

import copy
import io
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema
import pytest
import yaml

from validator.errors import ExitCode
from validator.init.command import run_init
from validator.init.request import InitError, InitRequest
from validator.model import Access, AuthMode, DataType, Permission, Region
from validator.sandbox import Sandbox, SandboxConfig, SandboxRequest, serve
from validator.schemas import load_schema
from validator.spec import load_spec

pytestmark = pytest.mark.e2e

P = Permission
R, W = Access.READ, Access.WRITE
# What a token with every label is shown to have: all but the writes that do not exist (counts, segments,
# activity logs), events write (no safe probe: unverifiable) and help_center write (its only evidence is the
# bare 404 a route miss also gives: inconclusive).
NEVER_SHOWN = {
    P(DataType.WORKSPACE_COUNTS, W),
    P(DataType.SEGMENTS, W),
    P(DataType.ADMIN_ACTIVITY_LOGS, W),
    P(DataType.EVENTS, W),
    P(DataType.HELP_CENTER, W),
}
EVERY_PERMISSION = {P(data_type, access) for data_type in DataType for access in Access} - NEVER_SHOWN
# The reads the READERS labels grant: "Read and list users and companies" covers notes and segments too.
READ_BY_READERS = {
    P(d, R)
    for d in (
        DataType.PEOPLE,
        DataType.COMPANIES,
        DataType.CONVERSATIONS,
        DataType.TEAMS_AND_TEAMMATES,
        DataType.TAGS,
        DataType.WORKSPACE_COUNTS,
        DataType.DATA_ATTRIBUTES,
        DataType.NOTES,
        DataType.SEGMENTS,
    )
}

READERS = [
    "Read and list users and companies",
    "Read conversations",
    "Read admins",
    "Read tags",
    "Read counts",
]
CONVERSATIONS_AND_TAGS = ["Read conversations", "Write conversations", "Read tags", "Write tags"]

SANDBOX_CONFIG: dict[str, Any] = {
    "workspaces": [
        {
            "id_code": "abc12xyz",
            "name": "Acme Support",
            "region": "US",
            "admins": [{"id": "1", "name": "Ciaran Lee", "email": "admin@acme.test"}],
        },
        {
            "id_code": "eu34wksp",
            "name": "Acme Europe",
            "region": "EU",
            "admins": [{"id": "2", "name": "Aoife Byrne", "email": "aoife@acme-eu.test"}],
        },
    ],
    "tokens": [
        {"value": "sandbox-init-full-access", "workspace": "abc12xyz", "permissions": "all"},
        {"value": "sandbox-init-readers", "workspace": "abc12xyz", "permissions": READERS},
        {
            "value": "sandbox-init-eu-convos-tags",
            "workspace": "eu34wksp",
            "permissions": CONVERSATIONS_AND_TAGS,
        },
        {"value": "sandbox-init-nothing", "workspace": "abc12xyz", "permissions": "none"},
        {"value": "sandbox-init-revoked", "workspace": "abc12xyz", "permissions": "all", "status": "revoked"},
    ],
}


@dataclass(frozen=True)
class Finished:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def sandbox() -> Sandbox:
    """This module's sandbox (the suite's conftest fails any test during which it records a mutation)."""
    return Sandbox(SandboxConfig.from_dict(SANDBOX_CONFIG))


@pytest.fixture
def api_url(sandbox: Sandbox) -> Iterator[str]:
    with serve(sandbox) as base_url:
        yield base_url


def cli(*args: str, token: str | None = None, cwd: Path | None = None) -> Finished:
    env = {key: value for key, value in os.environ.items() if not key.startswith("INTERCOM_")}
    if token is not None:
        env["INTERCOM_ACCESS_TOKEN"] = token
    done = subprocess.run(
        [sys.executable, "-m", "validator", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return Finished(done.returncode, done.stdout, done.stderr)


@pytest.mark.parametrize(
    ("token", "region", "expected"),
    [
        ("sandbox-init-full-access", Region.US, EVERY_PERMISSION),
        (
            "sandbox-init-readers",
            Region.US,
            READ_BY_READERS,
        ),
        (
            "sandbox-init-eu-convos-tags",
            Region.EU,
            {
                P(DataType.CONVERSATIONS, R),
                P(DataType.CONVERSATIONS, W),
                P(DataType.TAGS, R),
                P(DataType.TAGS, W),
            },
        ),
    ],
    ids=["all", "readers", "eu-conversations-and-tags"],
)
def test_init_declares_exactly_what_the_token_has_and_the_file_then_validates(
    api_url: str, tmp_path: Path, token: str, region: Region, expected: set[Permission]
) -> None:
    output = tmp_path / "connector.yaml"

    written = cli("init", "--api-url", api_url, "--output", str(output), token=token)

    assert written.code == 0, written.stderr
    spec = load_spec(output)
    assert set(spec.permissions) == expected
    assert spec.workspace.region is region
    assert spec.auth.mode is AuthMode.ACCESS_TOKEN
    text = output.read_text(encoding="utf-8")
    assert token not in text and token not in written.stdout + written.stderr
    assert text.startswith("# yaml-language-server: $schema=")
    assert "Generated by `connector-validator init`" in text
    validated = cli("validate", str(output), "--api-url", api_url, token=token)
    assert validated.code == 0, validated.stdout + validated.stderr


def test_permissions_the_token_lacks_are_only_mentioned_in_comments(api_url: str, tmp_path: Path) -> None:
    output = tmp_path / "connector.yaml"

    assert cli("init", "--api-url", api_url, "-o", str(output), token="sandbox-init-readers").code == 0

    text = output.read_text(encoding="utf-8")
    assert '#   tags: [write]: missing, the token does not have it; Developer Hub: "Write tags"' in text
    assert "  people: [read]" in text and '# Developer Hub: read: "Read and list users and companies"' in text
    assert '#   tickets: [read]: missing, the token does not have it; Developer Hub: "Read tickets"' in text
    assert "#   events: [write]: unverifiable, no safe request proves it" in text


def test_oauth_mode_names_the_client_variables_login_needs(api_url: str, tmp_path: Path) -> None:
    output = tmp_path / "connector.yaml"

    written = cli(
        "init", "--api-url", api_url, "-o", str(output), "--mode", "oauth", token="sandbox-init-full-access"
    )

    assert written.code == 0, written.stderr
    auth = load_spec(output).auth
    assert (auth.mode, auth.client_id_env, auth.client_secret_env) == (
        AuthMode.OAUTH,
        "INTERCOM_CLIENT_ID",
        "INTERCOM_CLIENT_SECRET",
    )


def test_init_refuses_to_overwrite_an_existing_file_unless_forced(api_url: str, tmp_path: Path) -> None:
    output = tmp_path / "connector.yaml"
    output.write_text("# mine\n", encoding="utf-8")

    refused = cli("init", "--api-url", api_url, "-o", str(output), token="sandbox-init-full-access")

    assert refused.code == 2
    assert "already exists; pass --force" in refused.stderr
    assert output.read_text(encoding="utf-8") == "# mine\n"
    forced = cli("init", "--api-url", api_url, "-o", str(output), "--force", token="sandbox-init-full-access")
    assert forced.code == 0, forced.stderr
    assert load_spec(output).workspace.id == "abc12xyz"


def test_the_default_output_is_connector_yaml_in_the_current_directory(api_url: str, tmp_path: Path) -> None:
    token = "sandbox-init-readers"
    written = cli("init", "--api-url", api_url, "--name", "my-sync", token=token, cwd=tmp_path)

    assert written.code == 0, written.stderr
    assert load_spec(tmp_path / "connector.yaml").name == "my-sync"


@pytest.mark.parametrize(
    ("token", "code", "message"),
    [
        (None, 2, "INTERCOM_ACCESS_TOKEN is not set or empty"),
        ("sandbox-init-revoked", 3, "Intercom rejected the token"),
        ("sandbox-init-nothing", 1, "granted none of the permissions"),
    ],
    ids=["token-unset", "token-rejected", "nothing-granted"],
)
def test_init_writes_nothing_when_it_cannot_describe_the_token(
    api_url: str, tmp_path: Path, token: str | None, code: int, message: str
) -> None:
    output = tmp_path / "connector.yaml"

    failed = cli("init", "--api-url", api_url, "-o", str(output), token=token)

    assert failed.code == code
    assert message in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1
    assert not output.exists()


def test_a_workspace_name_longer_than_the_schema_allows_still_gives_a_valid_file(tmp_path: Path) -> None:
    config = copy.deepcopy(SANDBOX_CONFIG)
    config["workspaces"][0]["name"] = "Acme " * 60  # 300 characters
    output = tmp_path / "connector.yaml"
    token = "sandbox-init-full-access"

    with serve(Sandbox(SandboxConfig.from_dict(config))) as api_url:
        written = cli("init", "--api-url", api_url, "-o", str(output), token=token)
        assert written.code == 0, written.stderr
        spec = load_spec(output)
        validated = cli("validate", str(output), "--api-url", api_url, token=token)

    limit = load_schema("connector.schema.json")["properties"]["name"]["maxLength"]
    assert len(spec.name) <= limit
    assert spec.name.startswith("acme-acme-") and spec.name.endswith("-acme-connector")
    assert validated.code == 0, validated.stdout + validated.stderr


def test_a_name_option_longer_than_the_schema_allows_is_a_usage_error(api_url: str, tmp_path: Path) -> None:
    output = tmp_path / "connector.yaml"

    failed = cli(
        "init", "--api-url", api_url, "-o", str(output), "--name", "n" * 201, token="sandbox-init-readers"
    )

    assert failed.code == 2
    assert failed.stderr == "connector-validator: error: --name must be 1 to 200 characters long\n"
    assert not output.exists()


def _me_answering(id_code: str) -> httpx.MockTransport:
    """Intercom as far as `GET /me` goes, naming the workspace `id_code`; nothing else is expected."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path != "/me":
            return httpx.Response(404, json={"type": "error.list", "errors": [{"code": "not_found"}]})
        app = {"type": "app", "id_code": id_code, "name": "Acme Support", "region": "US"}
        return httpx.Response(200, json={"type": "admin", "id": "1", "app": app})

    return httpx.MockTransport(answer)


@pytest.mark.parametrize(
    "id_code",
    ["abc12xyz\n::warning::injected", "abc 12xyz", "a" * 65, ""],
    ids=["newline", "space", "too-long", "empty"],
)
def test_a_workspace_id_connector_yaml_cannot_hold_exits_4_and_writes_nothing(
    tmp_path: Path, id_code: str
) -> None:
    output = tmp_path / "connector.yaml"
    stdout = io.StringIO()

    with pytest.raises(InitError) as raised:
        run_init(
            InitRequest(output=output),
            environ={"INTERCOM_ACCESS_TOKEN": "sandbox-init-full-access"},
            stdout=stdout,
            transport_factory=lambda: _me_answering(id_code),
        )

    error = raised.value
    assert error.exit_code is ExitCode.INCONCLUSIVE and int(error.exit_code) == 4
    assert error.message.startswith("Intercom answered a workspace id ")
    assert "this tool cannot write into connector.yaml" in error.message
    assert error.lines() == (error.message,) and error.message.splitlines() == [error.message]
    assert stdout.getvalue() == ""
    assert not output.exists()


# --- an API whose GET /me names another workspace on each call -------------------------------------------

TWO_FACED_TOKEN = "sandbox-init-two-faced-token"
FIRST: dict[str, object] = {"id_code": "aaa11first", "name": "First Workspace", "labels": READERS}
SECOND: dict[str, object] = {"id_code": "bbb22second", "name": "Second Workspace", "labels": "all"}


def _one_workspace_sandbox(workspace: dict[str, object]) -> Sandbox:
    config = {
        "workspaces": [
            {
                "id_code": workspace["id_code"],
                "name": workspace["name"],
                "region": "US",
                "admins": [{"id": "7", "name": "Ada", "email": "ada@example.test"}],
            }
        ],
        "tokens": [
            {"value": TWO_FACED_TOKEN, "workspace": workspace["id_code"], "permissions": workspace["labels"]}
        ],
    }
    return Sandbox(SandboxConfig.from_dict(config))


@contextmanager
def two_faced_api() -> Iterator[tuple[str, list[str]]]:
    """A loopback API that answers as workspace FIRST until its second `GET /me`, then as SECOND.

    Every answer after a `/me` comes from the workspace that `/me` named, with that workspace's grants, so a
    tool that asks `/me` twice probes SECOND's permissions while it may write FIRST down. Yields the base URL
    and the log of request lines it received.
    """
    backends = [_one_workspace_sandbox(FIRST), _one_workspace_sandbox(SECOND)]
    seen: list[str] = []
    lock = threading.Lock()
    state = {"me_calls": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                seen.append(f"{self.command} {self.path}")
                if urlsplit(self.path).path == "/me":
                    state["me_calls"] += 1
                backend = backends[min(state["me_calls"], 2) - 1] if state["me_calls"] else backends[0]
            answer = backend.handle(SandboxRequest.build(self.command, self.path, self.headers.items(), body))
            self.send_response(answer.status)
            for name, value in answer.headers:
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_init_asks_me_once_and_writes_the_workspace_whose_permissions_it_probed(tmp_path: Path) -> None:
    output = tmp_path / "connector.yaml"

    with two_faced_api() as (api_url, seen):
        written = cli("init", "--api-url", api_url, "-o", str(output), token=TWO_FACED_TOKEN)

    assert written.code == 0, written.stderr
    assert [line for line in seen if urlsplit(line.split(" ", 1)[1]).path == "/me"] == ["GET /me"]
    spec = load_spec(output)
    assert (spec.workspace.id, spec.workspace.name) == (FIRST["id_code"], FIRST["name"])
    # FIRST's token reads only: had a second /me switched the API to SECOND, every write would be declared.
    assert set(spec.permissions) == READ_BY_READERS
    assert "Second" not in output.read_text(encoding="utf-8") + written.stdout
    assert TWO_FACED_TOKEN not in output.read_text(encoding="utf-8") + written.stdout + written.stderr


# --- the schema the first line names (issue 13 item 3) ----------------------------------------------------

MODELINE = "# yaml-language-server: $schema="


def _schema_named_by(output: Path) -> Path:
    """The file yaml-language-server opens for `output`: its modeline's reference, relative to the file."""
    first = output.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(MODELINE), first
    reference = first.removeprefix(MODELINE)
    assert "://" not in reference  # a URL needs the network; the schema must resolve offline
    return output.parent / reference


def test_init_writes_the_schema_its_first_line_names_beside_the_file(api_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "connectors"
    folder.mkdir()
    output = folder / "acme.yaml"
    written = cli("init", "--api-url", api_url, "-o", str(output), token="sandbox-init-readers")
    assert written.code == 0, written.stderr

    schema_file = _schema_named_by(output)
    assert schema_file == folder / "connector.schema.json"
    assert schema_file.read_text(encoding="utf-8") == cli("schema").stdout  # what `schema` prints, exactly
    assert f"Wrote {schema_file}" in written.stdout
    # The file validates against the schema so found, as an editor would check it.
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(output.read_text(encoding="utf-8")))


def test_check_jsonschema_accepts_the_file_against_the_schema_written_beside_it(
    api_url: str, tmp_path: Path
) -> None:
    output = tmp_path / "connector.yaml"
    assert cli("init", "--api-url", api_url, "-o", str(output), token="sandbox-init-readers").code == 0
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which(
        "check-jsonschema"
    )
    if tool is None:
        pytest.skip("check-jsonschema is not installed (pip install check-jsonschema)")
    checked = subprocess.run(
        [tool, "--schemafile", str(_schema_named_by(output)), str(output)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_an_existing_schema_file_is_kept_unless_forced(api_url: str, tmp_path: Path) -> None:
    schema_file = tmp_path / "connector.schema.json"
    schema_file.write_text("{}\n", encoding="utf-8")  # someone's own, or an older version's
    output = tmp_path / "connector.yaml"

    kept = cli("init", "--api-url", api_url, "-o", str(output), token="sandbox-init-readers")
    assert kept.code == 0, kept.stderr
    assert schema_file.read_text(encoding="utf-8") == "{}\n"
    assert f"Left {schema_file} as it was" in kept.stdout

    forced = cli("init", "--api-url", api_url, "-o", str(output), "--force", token="sandbox-init-readers")
    assert forced.code == 0, forced.stderr
    assert schema_file.read_text(encoding="utf-8") == cli("schema").stdout
    assert f"Replaced {schema_file}" in forced.stdout

    again = cli("init", "--api-url", api_url, "-o", str(output), "--force", token="sandbox-init-readers")
    assert f"Kept {schema_file}: it is this version's schema" in again.stdout


def test_init_that_writes_nothing_writes_no_schema_either(tmp_path: Path, api_url: str) -> None:
    output = tmp_path / "connector.yaml"
    refused = cli("init", "--api-url", api_url, "-o", str(output), token="not-a-token-the-sandbox-knows")
    assert refused.code != 0
    assert list(tmp_path.iterdir()) == []
