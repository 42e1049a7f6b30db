"""A request without an answer says why in plain words and names the host (issue 13 item 8).

Each failure is real where the machine can produce it (a closed port, a server that hangs up or resets,
plain http on a TLS connection, a self-signed certificate, a proxy that refuses): the message comes from
what httpx and the operating system actually raise, not from a hand-made exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import ssl
import struct
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from loopback import LoopbackServer, ProxyRecorder
from validator.intercom import Answer, IntercomClient
from validator.network_errors import describe_failure
from validator.pacing import RetryPolicy, Timeouts
from validator.tokens import Scrubber

TOKEN = "dG9rOjnetwork-errors-canary-token"
TIMEOUTS = Timeouts(connect=2.0, read=2.0)


def ask(base_url: str, *, timeouts: Timeouts = TIMEOUTS) -> Answer:
    async def go() -> Answer:
        async with IntercomClient(
            base_url, TOKEN, "2.15", timeouts=timeouts, retry=RetryPolicy(attempts=1)
        ) as client:
            return await client.request("GET", "/me")

    answer = asyncio.run(go())
    assert answer.status is None and answer.failure is not None
    assert TOKEN not in answer.failure and TOKEN[:12] not in answer.failure
    return answer


class Serving(LoopbackServer):
    def __init__(self, serve: Callable[[socket.socket], None]) -> None:
        self.serve = serve
        super().__init__()

    def handle(self, connection: socket.socket) -> None:
        connection.settimeout(2)
        with contextlib.suppress(OSError):
            self.serve(connection)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def read_then_reset(connection: socket.socket) -> None:
    connection.recv(65536)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST


def read_only(connection: socket.socket) -> None:
    connection.recv(65536)


def test_a_closed_port_is_connection_refused_naming_host_and_port() -> None:
    port = closed_port()
    assert ask(f"http://127.0.0.1:{port}").failure == f"127.0.0.1:{port}: connection refused"


def test_an_unknown_host_name_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def unknown(*args: object, **kwargs: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(
        socket, "getaddrinfo", unknown
    )  # what the resolver says for a name that does not exist
    assert ask("https://api.intercom.io").failure == "api.intercom.io: name or service not known"


def test_a_server_hanging_up_without_answering() -> None:
    with Serving(read_only) as server:
        host, failure = server.url.removeprefix("http://"), ask(server.url).failure
    assert failure == f"{host}: the server closed the connection without answering"


def test_a_reset_connection() -> None:
    with Serving(read_then_reset) as server:
        host, failure = server.url.removeprefix("http://"), ask(server.url).failure
    assert failure == f"{host}: connection reset by peer"


def test_plain_http_where_tls_was_expected() -> None:
    def plain(connection: socket.socket) -> None:
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    with Serving(plain) as server:
        host = server.url.removeprefix("http://")
        failure = ask(f"https://{host}").failure
    assert (
        failure
        == f"{host}: TLS handshake failed: the host does not speak TLS there (plain http on that port?)"
    )


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A throw-away certificate for 127.0.0.1, made for this test run (no key is kept in the repository)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    yield cert, key


def test_a_certificate_nobody_vouches_for(self_signed: tuple[Path, Path]) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed)

    def tls(connection: socket.socket) -> None:
        with context.wrap_socket(connection, server_side=True) as wrapped:
            wrapped.recv(65536)

    with Serving(tls) as server:
        host = server.url.removeprefix("http://")
        failure = ask(f"https://{host}").failure
    assert failure == (
        f"{host}: TLS certificate not trusted: self-signed certificate (a TLS-inspecting proxy? point "
        "SSL_CERT_FILE at its CA bundle)"
    )


def test_a_proxy_that_refuses_is_named_with_the_api_host(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with ProxyRecorder() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url.replace("http://", "http://user:secret@"))
        failure = ask("https://api.intercom.io").failure
        where = proxy.url.removeprefix("http://")
    assert (
        failure
        == f"api.intercom.io (through the proxy {where}): the proxy refused to connect: 502 Bad Gateway"
    )
    assert "secret" not in failure  # the proxy's credentials are not shown


def test_a_connect_timeout_says_how_long() -> None:
    error = httpx.ConnectTimeout("")
    said = describe_failure(
        error, "api.intercom.io", Scrubber([TOKEN]), timeouts=Timeouts(connect=5, read=15)
    )
    assert said == "api.intercom.io: timed out connecting (no connection within 5 s)"


def test_server_text_in_a_protocol_error_is_scrubbed() -> None:
    def echo(connection: socket.socket) -> None:
        request = connection.recv(65536)
        token = request.split(b"Bearer ", 1)[1].split(b"\r\n", 1)[0]
        connection.sendall(b"HTTP/1.1 2x0 " + token + b"\r\n\r\n")

    with Serving(echo) as server:
        host, failure = server.url.removeprefix("http://"), ask(server.url).failure
    assert failure is not None and failure.startswith(f"{host}: not a valid HTTP answer")
