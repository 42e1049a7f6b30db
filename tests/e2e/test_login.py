"""`login` end to end: the CLI in a subprocess, the sandbox on loopback, the test as the browser.

The test plays the user's browser: it reads the authorize URL the CLI prints, asks the sandbox's authorize
page (which answers 302 to the CLI's loopback listener with a code and the state), and follows that redirect
by hand, optionally tampering with it first.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from validator.errors import EXIT_CODES, ExitCode
from validator.login.listener import MAX_REFUSED_CALLBACKS
from validator.sandbox import Sandbox, SandboxConfig, serve

pytestmark = pytest.mark.e2e

CLIENT_ID = "sandbox-oauth-client"
CLIENT_SECRET = "sandbox-oauth-secret"
DENYING_CLIENT_ID = "denying-client"
CLIENT_ENV = {"INTERCOM_CLIENT_ID": CLIENT_ID, "INTERCOM_CLIENT_SECRET": CLIENT_SECRET}

SANDBOX_CONFIG = {
    "workspaces": [
        {
            "id_code": "abc12xyz",
            "name": "Acme Support",
            "admins": [{"id": "991267459", "name": "Ciaran Lee", "email": "admin@acme.test"}],
        }
    ],
    "oauth_clients": [
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_urls": ["http://127.0.0.1/callback"],
            "workspace": "abc12xyz",
            "permissions": "all",
        },
        {
            "client_id": DENYING_CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_urls": ["http://127.0.0.1/callback"],
            "workspace": "abc12xyz",
            "permissions": "all",
            "consent": "deny",
        },
    ],
}

OAUTH_SPEC = """\
version: 1
name: oauth-connector
platform: intercom
workspace: {id: abc12xyz, name: Acme Support, region: us}
auth:
  mode: oauth
  token_env: INTERCOM_ACCESS_TOKEN
  client_id_env: INTERCOM_CLIENT_ID
  client_secret_env: INTERCOM_CLIENT_SECRET
permissions:
  people: [read, write]
  tags: [read, write]
"""


@dataclass(frozen=True)
class Finished:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def sandbox() -> Sandbox:
    """This module's sandbox (the suite's conftest fails any test during which it records a mutation)."""
    return Sandbox(SandboxConfig.from_dict(SANDBOX_CONFIG))


@pytest.fixture
def api_url(sandbox: Sandbox) -> Iterator[str]:
    with serve(sandbox) as base_url:
        yield base_url


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "connector.yaml"
    path.write_text(OAUTH_SPEC, encoding="utf-8")
    return path


def _env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("INTERCOM_")}
    return {**env, **CLIENT_ENV, **extra}


class LoginProcess:
    """`connector-validator login … --no-browser` running in a subprocess."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "validator", "login", *args, "--no-browser"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._stdout_seen: list[str] = []

    def authorize_url(self) -> str:
        """The URL the CLI tells the user to open (read from stdout, line by line, as a user would)."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._stdout_seen.append(line)
            if line.startswith("http"):
                return line.strip()
        pytest.fail(f"login printed no authorize URL: {self.finish()}")

    def finish(self, timeout: float = 15) -> Finished:
        stdout, stderr = self.process.communicate(timeout=timeout)
        return Finished(self.process.returncode, "".join(self._stdout_seen) + stdout, stderr)


def consent(authorize_url: str) -> str:
    """What the browser does on the authorize page: the sandbox answers 302 to the CLI's listener."""
    answer = httpx.get(authorize_url, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def with_param(url: str, name: str, change: Callable[[str], str]) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
    query[name] = change(query[name])
    return urlunsplit(parts._replace(query=urlencode(query)))


def issued_token(sandbox: Sandbox) -> str:
    issued = [token for token in sandbox.accepted_tokens() if token.name.startswith("OAuth:")]
    assert len(issued) == 1
    return issued[0].value


def run_cli(*args: str, env: dict[str, str]) -> Finished:
    done = subprocess.run(
        [sys.executable, "-m", "validator", *args], env=env, capture_output=True, text=True, timeout=20
    )
    return Finished(done.returncode, done.stdout, done.stderr)


def test_login_saves_a_private_token_file_that_validates_and_never_shows_the_token(
    sandbox: Sandbox, api_url: str, spec: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "token"
    login = LoginProcess(str(spec), "--api-url", api_url, "--save", str(saved), "--timeout", "10", env=_env())

    callback = consent(login.authorize_url())
    page = httpx.get(callback)
    finished = login.finish()

    assert finished.code == 0, finished.output
    assert page.status_code == 200 and "close this tab" in page.text
    token = issued_token(sandbox)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert saved.read_text(encoding="utf-8").strip() == token
    assert "Result: PASS" in finished.stdout
    code = parse_qs(urlsplit(callback).query)["code"][0]
    for secret in (token, code, CLIENT_SECRET):
        assert secret not in finished.output
    validated = run_cli("validate", str(spec), "--api-url", api_url, env=_env(INTERCOM_ACCESS_TOKEN=token))
    assert validated.code == 0, validated.output


def test_print_token_shows_the_token_once_on_stdout_and_nowhere_else(
    sandbox: Sandbox, api_url: str, spec: Path
) -> None:
    login = LoginProcess(str(spec), "--api-url", api_url, "--print-token", "--timeout", "10", env=_env())

    httpx.get(consent(login.authorize_url()))
    finished = login.finish()

    assert finished.code == 0, finished.output
    token = issued_token(sandbox)
    assert finished.stdout.count(token) == 1
    assert f"Access token: {token}\n" in finished.stdout
    assert token not in finished.stderr


def test_the_code_is_exchanged_exactly_as_received_even_when_it_ends_in_padding(
    sandbox: Sandbox, api_url: str, spec: Path
) -> None:
    # The sandbox's codes cycle through base64 paddings "==", "=" and none: three logins cover all of them.
    endings: set[str] = set()
    for _ in range(3):
        login = LoginProcess(str(spec), "--api-url", api_url, "--timeout", "10", env=_env())
        callback = consent(login.authorize_url())
        endings.add(parse_qs(urlsplit(callback).query)["code"][0][-2:].count("=") * "=")
        httpx.get(callback)
        finished = login.finish()
        assert finished.code == 0, finished.output
    assert endings == {"", "=", "=="}


def test_denied_consent_exits_with_its_own_code(sandbox: Sandbox, api_url: str, spec: Path) -> None:
    env = _env(INTERCOM_CLIENT_ID=DENYING_CLIENT_ID)
    login = LoginProcess(str(spec), "--api-url", api_url, "--timeout", "10", env=env)

    page = httpx.get(consent(login.authorize_url()))
    finished = login.finish()

    assert finished.code == ExitCode.LOGIN_DENIED
    assert finished.stderr.strip().splitlines()[-1] == (
        "connector-validator: error: the app was not authorized: consent was denied in the browser"
    )
    assert page.status_code == 400 and "close this tab" in page.text


def exchanges(sandbox: Sandbox) -> list[object]:
    return [entry for entry in sandbox.log.entries if entry.path == "/auth/eagle/token"]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda url: with_param(url, "state", lambda state: "x" + state[1:]),
        lambda url: url.replace("state=", "other="),
    ],
    ids=["wrong-state", "no-state"],
)
def test_a_callback_with_a_wrong_state_is_refused_and_the_login_waits_until_the_timeout(
    sandbox: Sandbox, api_url: str, spec: Path, tamper: Callable[[str], str]
) -> None:
    login = LoginProcess(str(spec), "--api-url", api_url, "--timeout", "3", env=_env())

    page = httpx.get(tamper(consent(login.authorize_url())))
    still_waiting = login.process.poll() is None
    finished = login.finish()

    assert page.status_code == 400 and "does not belong to the running login" in page.text
    assert still_waiting, "one forged callback ended the login"
    assert finished.code == ExitCode.LOGIN_TIMEOUT, finished.output
    assert finished.stderr.strip().splitlines()[-1] == (
        "connector-validator: error: no authorization arrived within 3 s (1 callback with a missing or "
        "wrong state was refused: a stale tab, or a forged request); run login again"
    )
    assert not exchanges(sandbox)


def test_the_real_callback_still_logs_in_after_forged_ones(
    sandbox: Sandbox, api_url: str, spec: Path
) -> None:
    login = LoginProcess(str(spec), "--api-url", api_url, "--timeout", "10", env=_env())
    callback = consent(login.authorize_url())

    forged = [
        httpx.get(with_param(callback, "state", lambda state: state[::-1])),
        httpx.get(with_param(callback, "state", lambda state: "")),
        httpx.get(with_param(callback, "code", lambda code: "stolen" + code).replace("state=", "state=x")),
    ]
    real = httpx.get(callback)
    finished = login.finish()

    assert [page.status_code for page in forged] == [400, 400, 400]
    assert real.status_code == 200 and "received the authorization" in real.text
    assert finished.code == 0, finished.output
    assert "Result: PASS" in finished.stdout
    assert len(exchanges(sandbox)) == 1  # only the real code was exchanged


def test_a_flood_of_forged_callbacks_ends_the_login_with_the_state_code(
    sandbox: Sandbox, api_url: str, spec: Path
) -> None:
    login = LoginProcess(str(spec), "--api-url", api_url, "--timeout", "60", env=_env())
    forged = with_param(consent(login.authorize_url()), "state", lambda state: "x" + state[1:])

    pages = [httpx.get(forged).status_code for _ in range(MAX_REFUSED_CALLBACKS)]
    finished = login.finish(timeout=10)  # well before --timeout

    assert pages == [400] * MAX_REFUSED_CALLBACKS
    assert finished.code == ExitCode.LOGIN_STATE
    assert "state is missing or does not match" in finished.stderr
    assert not exchanges(sandbox)


def test_a_code_intercom_does_not_know_ends_with_the_unauthorized_code_exit(
    sandbox: Sandbox, api_url: str, spec: Path
) -> None:
    login = LoginProcess(str(spec), "--api-url", api_url, "--timeout", "10", env=_env())

    tampered = with_param(consent(login.authorize_url()), "code", lambda code: "AAAA" + code[4:])
    httpx.get(tampered)
    finished = login.finish()

    assert finished.code == ExitCode.LOGIN_CODE_REJECTED
    assert "401 Unauthorized Code" in finished.stderr
    assert "AAAA" not in finished.output


def test_no_callback_before_the_timeout_exits_with_the_timeout_code(api_url: str, spec: Path) -> None:
    login = LoginProcess(str(spec), "--api-url", api_url, "--timeout", "0.3", env=_env())

    login.authorize_url()
    finished = login.finish()

    assert finished.code == ExitCode.LOGIN_TIMEOUT
    assert "no authorization arrived within 0.3 s" in finished.stderr


def test_an_unreachable_token_endpoint_exits_with_the_network_code(
    sandbox: Sandbox, api_url: str, spec: Path
) -> None:
    with socket.socket() as placeholder:  # a port that was free a moment ago: nothing listens there
        placeholder.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{placeholder.getsockname()[1]}"
    args = ("--api-url", dead, "--authorize-url", api_url, "--timeout", "10")
    login = LoginProcess(str(spec), *args, env=_env())

    httpx.get(consent(login.authorize_url()))
    finished = login.finish()

    assert finished.code == ExitCode.LOGIN_NETWORK
    assert f"cannot reach {dead}/auth/eagle/token" in finished.stderr


def test_save_refuses_a_symbolic_link_before_asking_for_consent(spec: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    link = tmp_path / "token"
    link.symlink_to(target)

    finished = run_cli("login", str(spec), "--no-browser", "--save", str(link), "--force", env=_env())

    assert finished.code == 2
    assert "is a symbolic link" in finished.stderr
    assert "http" not in finished.stdout  # no authorize URL: the flow never started
    assert not target.exists()


def test_missing_client_keys_in_connector_yaml_are_a_usage_error_naming_them(tmp_path: Path) -> None:
    spec = tmp_path / "connector.yaml"
    spec.write_text(OAUTH_SPEC.replace("  client_secret_env: INTERCOM_CLIENT_SECRET\n", ""), encoding="utf-8")

    finished = run_cli("login", str(spec), "--no-browser", env=_env())

    assert finished.code == 2
    assert "auth has no client_secret_env" in finished.stderr
    assert len(finished.stderr.strip().splitlines()) == 1


def test_access_token_mode_explains_where_the_token_comes_from(tmp_path: Path) -> None:
    spec = tmp_path / "connector.yaml"
    spec.write_text(OAUTH_SPEC.replace("mode: oauth", "mode: access_token"), encoding="utf-8")

    finished = run_cli("login", str(spec), env=_env())

    assert finished.code == 0
    assert "Developer Hub → your app → Configure → Authentication" in finished.stdout
    assert "INTERCOM_ACCESS_TOKEN" in finished.stdout


def test_help_documents_every_failure_exit_code() -> None:
    from typer.testing import CliRunner

    from validator.cli import app

    help_text = " ".join(CliRunner().invoke(app, ["login", "--help"]).output.split())
    failures = [code for code in ExitCode if code.name.startswith("LOGIN_")]
    assert len(failures) == 6 and set(failures) <= set(EXIT_CODES["login"])
    for code in failures:
        assert f" {code.value} " in help_text
        assert "".join(f"{code.value} {code.meaning_for('login')}".split()) in "".join(help_text.split())


# --- a token endpoint whose answer cannot be used ------------------------------------------------------

# Each looks like a token, so that the test can check the value is never echoed; the sandbox only issues
# good tokens, hence the stand-in token endpoint below.
NEWLINE_TOKEN = "dG9rOjAwbmV3bGluZS10b2tlbi1hYmNkZWYxMjM0NTY="
NON_ASCII_TOKEN = "dG9rOjAwbm9uLWFzY2lpLXRva2VuLWFiY2RlZg==é"


def _token_json(value: str) -> bytes:
    return json.dumps({"token_type": "Bearer", "access_token": value, "token": value}).encode()


@contextmanager
def token_endpoint(body: bytes, headers: Mapping[str, str] | None = None) -> Iterator[str]:
    """A stand-in for `POST /auth/eagle/token` on 127.0.0.1 that answers 200 with `body` to every request."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("body", "headers", "message", "secret"),
    [
        (_token_json(NEWLINE_TOKEN + "\nX-Injected: 1"), {}, "cannot be an Intercom token", NEWLINE_TOKEN),
        (_token_json("Z"), {}, "it is 1 characters long", None),
        (_token_json(NON_ASCII_TOKEN), {}, "non-ASCII", NON_ASCII_TOKEN.rstrip("é")),
        (b"<html>Bad gateway</html>", {}, "answered 200 without a token", None),
        (
            b"not gzip at all",
            {"Content-Encoding": "gzip"},
            "could not be used (compressed, broken or over 1 MiB)",
            None,
        ),
        (b"[" * 100_000 + b"]" * 100_000, {}, "answered 200 without a token", None),
        (b'["a list, not an object"]', {}, "answered 200 without a token", None),
    ],
    ids=["newline-token", "one-character-token", "non-ascii-token", "not-json", "bad-gzip", "deep", "a-list"],
)
def test_a_token_answer_that_cannot_be_used_exits_15_in_one_line_without_echoing_it(
    sandbox: Sandbox,
    api_url: str,
    spec: Path,
    tmp_path: Path,
    body: bytes,
    headers: dict[str, str],
    message: str,
    secret: str | None,
) -> None:
    saved = tmp_path / "token"
    with token_endpoint(body, headers) as token_url:
        args = ("--api-url", token_url, "--authorize-url", api_url, "--save", str(saved), "--timeout", "10")
        login = LoginProcess(str(spec), *args, env=_env())
        httpx.get(consent(login.authorize_url()))
        finished = login.finish()

    assert finished.code == ExitCode.LOGIN_UNEXPECTED, finished.output
    assert "Traceback" not in finished.output
    last = finished.stderr.strip().splitlines()[-1]
    assert last.startswith("connector-validator: error: the token endpoint ") and message in last
    assert last.endswith("nothing was saved")
    assert "Authorized" not in finished.stdout  # nothing announced, nothing checked
    assert not saved.exists()
    if secret is not None:
        assert secret not in finished.output


# --- codes holding characters a form decoder would change -----------------------------------------------


@contextmanager
def refusing_token_endpoint() -> Iterator[tuple[str, list[dict[str, list[str]]]]]:
    """A stand-in for `POST /auth/eagle/token` that records each form it receives and answers 401."""
    forms: list[dict[str, list[str]]] = []
    body = json.dumps(
        {"type": "error.list", "errors": [{"code": "unauthorized", "message": "Unauthorized Code"}]}
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("ascii")
            forms.append(parse_qs(raw, keep_blank_values=True))  # a form body: `+` there means a space
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", forms
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "raw_code",
    ["ab+c/d=", "ab%2Bc%2Fd%3D", "ab+c%2Fd="],
    ids=["literal", "percent-encoded", "mixed"],
)
def test_a_plus_in_the_code_reaches_the_token_exchange_as_a_plus(
    sandbox: Sandbox, api_url: str, spec: Path, raw_code: str
) -> None:
    with refusing_token_endpoint() as (token_url, forms):
        args = ("--api-url", token_url, "--authorize-url", api_url, "--timeout", "10")
        login = LoginProcess(str(spec), *args, env=_env())
        callback = urlsplit(consent(login.authorize_url()))
        state = parse_qs(callback.query)["state"][0]
        # The query as a browser sends it: the code's characters untouched, not re-encoded by a library.
        page = httpx.get(urlunsplit(callback._replace(query=f"code={raw_code}&state={state}")))
        finished = login.finish()

    assert page.status_code == 200
    assert finished.code == ExitCode.LOGIN_CODE_REJECTED, finished.output
    assert [form["code"] for form in forms] == [["ab+c/d="]]
    assert "ab+c/d=" not in finished.output and "ab c/d" not in finished.output
