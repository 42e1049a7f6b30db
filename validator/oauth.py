"""`login`: get an OAuth token for a connector's public app, then check it like `validate` does.

The flow (API-NOTES §7): a loopback listener on 127.0.0.1 (ephemeral port, RFC 8252 §7.3) receives the
browser's redirect from the authorize page; `state` is checked in constant time, and a callback whose state is
not ours is refused with an error page while the listener keeps waiting for the real one (until --timeout);
the code is kept exactly as received (percent-decoded once; a literal `+` stays a `+`, and it may end in `=`)
and exchanged once at `POST /auth/eagle/token`. The token is then written only
where the user asked (`--save` with mode 0600, or `--print-token`), and every other line of output passes
through a `Scrubber` that knows the token, the code and the client secret.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import unquote, urlencode, urlsplit

from validator.errors import ExitCode
from validator.model import AuthMode, ConnectorSpec

if TYPE_CHECKING:
    import httpx

    from validator.report import Report
    from validator.tokens import Scrubber

AUTHORIZE_BASE = "https://app.intercom.com"  # API-NOTES §7: the authorize page is not on the API host
AUTHORIZE_PATH = "/oauth"
TOKEN_PATH = "/auth/eagle/token"
CALLBACK_PATH = "/callback"
LOOPBACK = "127.0.0.1"
DEFAULT_TIMEOUT = 300.0
EXCHANGE_TIMEOUT = 15.0
# Callbacks with a missing or wrong state are refused and the login keeps waiting for the real one; this many
# means something other than the user's browser is calling the listener, and the login stops (EXIT_STATE).
MAX_REFUSED_CALLBACKS = 20

# Exit codes of `login` before a token exists; once it exists, `login` exits like `validate` (0-4). The
# command's help (`validator.cli_auth`) lists them; a test checks that it names each one.
EXIT_USAGE = int(ExitCode.USAGE)
EXIT_TIMEOUT = 10  # no callback before --timeout
EXIT_DENIED = 11  # the workspace admin did not authorize the app (error=access_denied)
EXIT_STATE = 12  # the callback's state is missing or not ours: possibly forged, never exchanged
EXIT_CODE_REJECTED = 13  # the token endpoint answered 401 (code expired, used, or wrong client secret)
EXIT_NETWORK = 14  # the token endpoint could not be reached
EXIT_UNEXPECTED = 15  # a callback without a code, another OAuth error, or a token answer without a token


class LoginError(Exception):
    """Stops `login` with a one-line message (never holding a secret) and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class LoginRequest:
    path: Path
    api_url: str | None = None
    authorize_url: str | None = None
    open_browser: bool = True
    timeout: float = DEFAULT_TIMEOUT
    save: Path | None = None
    force: bool = False
    print_token: bool = False


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class Callback:
    """What the browser brought back to the listener, exactly as received (decoded once, never stripped)."""

    @classmethod
    def from_query(cls, query: str) -> Callback:
        """Read a callback's raw query string.

        Each value is percent-decoded once and nothing else: a literal `+` stays a `+` (an authorization code
        may hold one, and `parse_qs` would turn it into a space), and a trailing `=` is kept. The first value
        of a repeated name counts.
        """
        values: dict[str, str] = {}
        for pair in query.split("&"):
            if not pair:
                continue
            name, _, value = pair.partition("=")
            values.setdefault(unquote(name), unquote(value))
        return cls(code=values.get("code"), state=values.get("state"), error=values.get("error"))

    code: str | None = field(default=None, repr=False)
    state: str | None = None
    error: str | None = None


# --- the steps ------------------------------------------------------------------------------------------


def client_credentials(spec: ConnectorSpec, environ: Mapping[str, str]) -> ClientCredentials:
    """The OAuth client id and secret from the environment variables connector.yaml names."""
    auth = spec.auth
    if auth.client_id_env is None or auth.client_secret_env is None:
        absent = [key for key in ("client_id_env", "client_secret_env") if getattr(auth, key) is None]
        raise LoginError(
            f"{spec.path}: auth has no {' and no '.join(absent)}; add e.g. client_id_env: INTERCOM_CLIENT_ID "
            "and client_secret_env: INTERCOM_CLIENT_SECRET under auth, and set those variables",
            EXIT_USAGE,
        )
    values = {name: environ.get(name, "").strip() for name in (auth.client_id_env, auth.client_secret_env)}
    unset = [name for name, value in values.items() if not value]
    if unset:
        raise LoginError(
            f"the environment variable {' and '.join(unset)} (named in {spec.path} auth) is not set or "
            "empty; set it to the app's OAuth client id/secret, shown on the app's page in Developer Hub",
            EXIT_USAGE,
        )
    odd = [name for name, value in values.items() if not value.isascii() or not value.isprintable()]
    if odd:
        raise LoginError(
            f"the environment variable {' and '.join(odd)} holds characters an OAuth client id or secret "
            "never has (non-ASCII or control characters); check the variable",
            EXIT_USAGE,
        )
    return ClientCredentials(values[auth.client_id_env], values[auth.client_secret_env])


def authorize_url(base: str, client_id: str, state: str, redirect_uri: str) -> str:
    query = urlencode({"client_id": client_id, "state": state, "redirect_uri": redirect_uri})
    return f"{base}{AUTHORIZE_PATH}?{query}"


def state_matches(callback: Callback, expected_state: str) -> bool:
    """Whether the callback carries this login's state (compared in constant time)."""
    return callback.state is not None and hmac.compare_digest(
        callback.state.encode(), expected_state.encode()
    )


def code_from(callback: Callback, expected_state: str) -> str:
    """The authorization code of a callback whose state is ours; LoginError for anything else."""
    if not state_matches(callback, expected_state):
        raise LoginError(
            "the callback's state is missing or does not match this login (a stale tab, or a forged "
            "request); nothing was exchanged; run login again",
            EXIT_STATE,
        )
    if callback.error == "access_denied":
        raise LoginError("the app was not authorized: consent was denied in the browser", EXIT_DENIED)
    if callback.error is not None:
        raise LoginError(f"Intercom returned the OAuth error {_printable(callback.error)!r}", EXIT_UNEXPECTED)
    if not callback.code:
        raise LoginError("the callback carried no authorization code", EXIT_UNEXPECTED)
    return callback.code


def exchange_code(
    api_base: str,
    code: str,
    credentials: ClientCredentials,
    *,
    timeout: float = EXCHANGE_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> str:
    """Trade the code for a token at `POST <api_base>/auth/eagle/token` (form fields, API-NOTES §7)."""
    import httpx

    from validator.intercom import MAX_BODY_BYTES, tls_context, uses_environment_proxies
    from validator.tokens import token_problem

    url = api_base + TOKEN_PATH
    form = {"code": code, "client_id": credentials.client_id, "client_secret": credentials.client_secret}
    headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
    deadline = time.monotonic() + timeout  # httpx's timeout is per read: a dripping body would never trip it
    try:
        with (
            httpx.Client(
                timeout=timeout,
                follow_redirects=False,
                transport=transport,
                # The form holds the code and the client secret: a proxy may carry it only inside TLS.
                trust_env=uses_environment_proxies(api_base),
                verify=tls_context(),
            ) as client,
            client.stream("POST", url, data=form, headers=headers) as response,
        ):
            if response.headers.get("content-encoding", "identity").lower() != "identity":
                raise httpx.DecodingError("a compressed answer although none was asked for")
            content = bytearray()
            for chunk in response.iter_bytes():
                content += chunk
                if len(content) > MAX_BODY_BYTES:
                    raise httpx.DecodingError("an answer over 1 MiB")
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the answer took too long")
    except httpx.TimeoutException:
        raise LoginError(
            f"no answer from {url} within {timeout:g} s; check the network and retry", EXIT_NETWORK
        ) from None
    except httpx.TransportError as error:
        raise LoginError(f"cannot reach {url}: {type(error).__name__}", EXIT_NETWORK) from None
    except httpx.DecodingError:
        raise LoginError(
            "the token endpoint answered a body that could not be used (compressed, broken or over 1 MiB); "
            "nothing was saved",
            EXIT_UNEXPECTED,
        ) from None
    if response.status_code == 401:
        raise LoginError(
            "Intercom refused the authorization code (401 Unauthorized Code): codes work once and expire "
            "after about 5 minutes, and the client secret must be the app's; run login again",
            EXIT_CODE_REJECTED,
        )
    token = _token_in(bytes(content))
    if response.status_code != 200 or token is None:
        raise LoginError(
            f"the token endpoint answered {response.status_code} without a token; nothing was saved",
            EXIT_UNEXPECTED,
        )
    # Before the token is printed, saved, scrubbed or sent in a header: a value with a newline would end up
    # in an exception message, and a one-letter value would make the scrubber mangle every line.
    problem = token_problem(token)
    if problem is not None:
        raise LoginError(
            f"the token endpoint answered a value that cannot be an Intercom token ({problem}); "
            "nothing was saved",
            EXIT_UNEXPECTED,
        )
    return token


def _token_in(content: bytes) -> str | None:
    try:
        body = json.loads(content.decode("utf-8"))
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested deeper than the parser goes
        return None
    if not isinstance(body, dict):
        return None
    for key in ("access_token", "token"):  # both hold the same token (API-NOTES §7)
        value = body.get(key)
        if isinstance(value, str) and value.strip() and value == value.strip():
            return value
    return None


def check_save_target(path: Path, *, replace: bool) -> None:
    """Refuse a --save target before the flow starts, so that an authorization is never wasted."""
    if path.is_symlink():
        raise LoginError(
            f"--save {path} is a symbolic link; refusing to write a token through it", EXIT_USAGE
        )
    if path.exists():
        if not path.is_file():
            raise LoginError(f"--save {path} exists and is not a regular file", EXIT_USAGE)
        if not replace:
            raise LoginError(f"--save {path} already exists; pass --force to replace it", EXIT_USAGE)
    if not path.parent.is_dir():
        raise LoginError(f"--save {path}: the directory {path.parent} does not exist", EXIT_USAGE)


def save_token(path: Path, token: str, *, replace: bool) -> None:
    """Write the token to `path` with mode 0600: a new file, or an atomic replacement of a regular file."""
    check_save_target(path, replace=replace)
    data = (token + "\n").encode("utf-8")
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    try:
        if not path.exists():
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | nofollow, 0o600)
            _write_private(descriptor, data)
            return
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            _write_private(descriptor, data)
            os.replace(temporary, path)  # replaces the directory entry; never follows a link
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except FileExistsError:
        raise LoginError(
            f"--save {path} appeared while logging in; nothing was written", EXIT_USAGE
        ) from None
    except OSError as error:
        raise LoginError(
            f"cannot write {path}: {error.strerror or type(error).__name__}", EXIT_USAGE
        ) from None


def _write_private(descriptor: int, data: bytes) -> None:
    with os.fdopen(descriptor, "wb") as stream:
        os.fchmod(stream.fileno(), 0o600)  # exactly 0600, whatever the umask
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def _printable(text: str) -> str:
    cleaned = "".join(char for char in text if char.isalnum() or char in "_-.")
    return cleaned[:60]


# --- the loopback listener ------------------------------------------------------------------------------

_PAGE = (
    '<!doctype html><html><head><meta charset="utf-8"><title>connector-validator</title></head>'
    "<body><p>{message}</p><p>You can close this tab and return to the terminal.</p></body></html>"
)
_PAGE_MESSAGES = {
    None: "connector-validator received the authorization.",
    EXIT_STATE: "This authorization does not belong to the running login; it was ignored.",
    EXIT_DENIED: "The app was not authorized.",
    EXIT_UNEXPECTED: "The authorization could not be used.",
}


class _ListenerServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, expected_state: str) -> None:
        self.expected_state = expected_state
        self.received = threading.Event()  # set by the callback that ends the wait
        self.callback: Callback | None = None
        self.refused = 0  # callbacks whose state was missing or not ours
        self.lock = threading.Lock()
        super().__init__((LOOPBACK, 0), _CallbackHandler)


class _CallbackHandler(BaseHTTPRequestHandler):
    server: _ListenerServer
    timeout = 10  # a browser's idle pre-connection must not pin a thread

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: the request line holds the authorization code."""

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        if split.path != CALLBACK_PATH:
            self._answer(404, "Not found.")
            return
        callback = Callback.from_query(split.query)
        if not state_matches(callback, self.server.expected_state):
            # A stale tab or a forged request: refused, and the real callback may still come.
            with self.server.lock:
                self.server.refused += 1
                give_up = self.server.refused >= MAX_REFUSED_CALLBACKS and self.server.callback is None
                if give_up:
                    self.server.callback = callback
            self._answer(400, _PAGE_MESSAGES[EXIT_STATE])
            if give_up:
                self.server.received.set()
            return
        with self.server.lock:
            already = self.server.callback is not None
            if not already:
                self.server.callback = callback
        if already:
            self._answer(409, "This login has already received its answer.")
            return
        try:
            code_from(callback, self.server.expected_state)
            outcome: int | None = None
        except LoginError as error:
            outcome = error.code
        self._answer(200 if outcome is None else 400, _PAGE_MESSAGES[outcome])
        self.server.received.set()  # after the page is sent, so the browser always gets it

    def _answer(self, status: int, message: str) -> None:
        body = _PAGE.format(message=message).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


class CallbackListener:
    """The redirect target: `http://127.0.0.1:<port>/callback`, served in a background thread."""

    def __init__(self, server: _ListenerServer) -> None:
        self._server = server

    @property
    def redirect_uri(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}{CALLBACK_PATH}"

    @property
    def refused(self) -> int:
        """How many callbacks were refused because their state was missing or not ours."""
        with self._server.lock:
            return self._server.refused

    def wait(self, timeout: float) -> Callback | None:
        """The callback that carries our state, or None after `timeout` seconds.

        Callbacks with a missing or wrong state do not end the wait, except the MAX_REFUSED_CALLBACKS-th,
        which is returned (and refused by `code_from`).
        """
        if not self._server.received.wait(timeout):
            return None
        return self._server.callback


@contextmanager
def listen(expected_state: str) -> Iterator[CallbackListener]:
    server = _ListenerServer(expected_state)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield CallbackListener(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the command ----------------------------------------------------------------------------------------


def access_token_help(spec: ConnectorSpec) -> str:
    from validator.catalog import load_catalog

    where = load_catalog().remediation.where
    return (
        f"{spec.path} uses auth.mode: access_token, so there is nothing to log in to.\n"
        f"A private app's access token is shown in {where}.\n"
        f"Store it in the CI secret {spec.auth.token_env} (auth.token_env), then run:\n"
        f"  connector-validator validate {spec.path}\n"
    )


def run_login(
    request: LoginRequest,
    *,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    open_browser: Callable[[str], bool] | None = None,
) -> int:
    """Run `login` end to end and return its exit code; errors are printed as one line, never raised."""
    from validator.formats import Format, render
    from validator.tokens import Scrubber

    environ = os.environ if environ is None else environ
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    scrub = Scrubber([])
    try:
        spec = _load(request.path)
        if spec.auth.mode is AuthMode.ACCESS_TOKEN:
            stdout.write(access_token_help(spec))
            return 0
        credentials = client_credentials(spec, environ)
        scrub = Scrubber([credentials.client_secret])
        api_url, api_base, authorize_base = _hosts(spec, request)
        if request.save is not None:
            check_save_target(request.save, replace=request.force)
        code = _authorize(request, credentials, authorize_base, stdout, stderr, open_browser)
        scrub = Scrubber([credentials.client_secret, code])
        token = exchange_code(api_base, code, credentials)
        scrub = Scrubber([credentials.client_secret, code, token])
        if request.save is not None:
            save_token(request.save, token, replace=request.force)
    except LoginError as error:
        stderr.write(scrub(f"connector-validator: error: {error}\n"))
        return error.code
    _announce(request, token, stdout, scrub)
    report = _check(spec, token, api_url)
    stdout.write(scrub(render(Format.TEXT, report)))
    return int(report.exit_code)


def _load(path: Path) -> ConnectorSpec:
    from validator.spec import SpecError, SpecFileError, load_spec

    try:
        return load_spec(path)
    except SpecFileError as error:
        raise LoginError(str(error), EXIT_USAGE) from None
    except SpecError as error:
        raise LoginError(error.problems[0].format(), EXIT_USAGE) from None


def _hosts(spec: ConnectorSpec, request: LoginRequest) -> tuple[str | None, str, str]:
    """(--api-url checked, API base, authorize base): by default the regional host and app.intercom.com."""
    from validator.catalog import load_catalog
    from validator.intercom import ApiUrlError, check_api_url

    try:
        api_url = check_api_url(request.api_url) if request.api_url else None
        authorize = check_api_url(request.authorize_url) if request.authorize_url else None
    except ApiUrlError as error:
        raise LoginError(str(error), EXIT_USAGE) from None
    api_base = api_url or load_catalog().hosts[spec.workspace.region]
    return api_url, api_base, authorize or api_url or AUTHORIZE_BASE


def _authorize(
    request: LoginRequest,
    credentials: ClientCredentials,
    authorize_base: str,
    stdout: TextIO,
    stderr: TextIO,
    open_browser: Callable[[str], bool] | None,
) -> str:
    """Show the authorize page and wait for the browser to come back with a code."""
    state = secrets.token_urlsafe(32)
    with listen(state) as listener:
        url = authorize_url(authorize_base, credentials.client_id, state, listener.redirect_uri)
        opened = False
        if request.open_browser:
            import webbrowser

            opened = (open_browser or webbrowser.open)(url)
        if opened:
            stderr.write(f"Opened the authorize page in your browser; if nothing appeared, open:\n{url}\n")
        else:
            stdout.write(f"Open this URL in a browser and authorize the app:\n{url}\n")
            stdout.flush()
        stderr.write(f"Waiting for the authorization on {listener.redirect_uri} ({request.timeout:g} s)...\n")
        stderr.flush()
        callback = listener.wait(request.timeout)
        refused = listener.refused
    if callback is None:
        ignored = (
            f" ({refused} callback{'s' if refused != 1 else ''} with a missing or wrong state "
            f"{'were' if refused != 1 else 'was'} refused: a stale tab, or a forged request)"
            if refused
            else ""
        )
        raise LoginError(
            f"no authorization arrived within {request.timeout:g} s{ignored}; run login again", EXIT_TIMEOUT
        )
    return code_from(callback, state)


def _announce(request: LoginRequest, token: str, stdout: TextIO, scrub: Scrubber) -> None:
    lines = ["Authorized: Intercom issued a token."]
    if request.save is not None:
        lines.append(f"Saved it to {request.save} (mode 0600).")
    elif not request.print_token:
        lines.append("It was not saved: pass --save FILE or --print-token to keep it.")
    stdout.write(scrub("\n".join(lines) + "\n"))
    if request.print_token:
        stdout.write(f"Access token: {token}\n")  # the one place the token is shown, because it was asked for
    stdout.write(scrub("Checking it against the connector.yaml, as `validate` does:\n\n"))


def _check(spec: ConnectorSpec, token: str, api_url: str | None) -> Report:
    import asyncio

    from validator.validate import Ready, RunOptions, run_checks

    # The token came from the OAuth exchange, not from auth.token_env: the report says so.
    return asyncio.run(run_checks([Ready(spec, token, "login")], RunOptions(api_url=api_url)))


__all__ = [
    "Callback",
    "ClientCredentials",
    "LoginError",
    "LoginRequest",
    "authorize_url",
    "check_save_target",
    "client_credentials",
    "code_from",
    "exchange_code",
    "listen",
    "run_login",
    "save_token",
    "state_matches",
]
