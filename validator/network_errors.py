"""Why a request got no HTTP answer, in plain words and naming the host: `api.intercom.io: name or service
not known`, `127.0.0.1:8080: connection refused`, `api.intercom.io: TLS certificate not trusted: self-signed
certificate`.

httpx wraps the operating system's error (an `OSError`, a `socket.gaierror`, an `ssl.SSLError`) in one or
two layers of its own, sometimes behind a generic message ("All connection attempts failed"): the cause is
found by walking the exception chain, and said from its errno or TLS reason, never from text a server
sent unless the scrubber has been over it. Nothing here can hold the token: the request's headers are never
read, and the only server-provided text (a proxy's status line, an HTTP parser's complaint) is scrubbed.
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Iterator

import httpx

from validator.pacing import Timeouts
from validator.tokens import Scrubber

_DETAIL_LIMIT = 120


def describe_failure(
    error: BaseException, host: str, scrub: Scrubber, *, proxy: str | None = None, timeouts: Timeouts
) -> str:
    """`host: reason` for an attempt that ended with `error` instead of an answer.

    `proxy` is the `host:port` of the proxy the request went through, if any (named, since then the reason
    may be the proxy's); `timeouts` are the attempt's, said for a timeout.
    """
    where = f"{host} (through the proxy {proxy})" if proxy else host
    return f"{where}: {_reason(error, scrub, timeouts)}"


def _reason(error: BaseException, scrub: Scrubber, timeouts: Timeouts) -> str:
    if isinstance(error, httpx.ConnectTimeout):
        return f"timed out connecting (no connection within {timeouts.connect:g} s)"
    if isinstance(error, httpx.TimeoutException):
        return f"timed out (nothing received for {timeouts.read:g} s)"
    if isinstance(error, TimeoutError):  # the attempt's own deadline: a slow drip counts too
        return f"timed out (no complete answer within {timeouts.connect + timeouts.read:g} s)"
    if isinstance(error, httpx.ProxyError):
        return f"the proxy refused to connect: {_detail(error, scrub) or 'no reason given'}"
    for cause in _chain(error):
        said = _os_reason(cause)
        if said is not None:
            return said
    if isinstance(error, httpx.RemoteProtocolError):
        detail = _detail(error, scrub)
        if detail.lower().startswith("server disconnected without sending a response"):
            return "the server closed the connection without answering"
        return f"not a valid HTTP answer ({detail})" if detail else "not a valid HTTP answer"
    if isinstance(error, httpx.NetworkError):
        detail = _detail(error, scrub)
        kind = type(error).__name__
        return f"network error ({kind}: {detail})" if detail else f"network error ({kind})"
    # Other messages may quote what was being sent (LocalProtocolError quotes an illegal header value: the
    # Authorization header): the kind only.
    kind = type(error).__name__
    if isinstance(error, httpx.DecodingError):
        return f"an answer that could not be decoded ({kind})"
    if isinstance(error, httpx.LocalProtocolError):
        return f"the request could not be sent ({kind})"
    return kind


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error` and its causes, outermost first (each once: chains can loop)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _os_reason(cause: BaseException) -> str | None:
    """The plain words for an operating-system or TLS error; None for anything else."""
    if isinstance(cause, ssl.SSLCertVerificationError):
        why = cause.verify_message or "certificate verify failed"
        return (
            f"TLS certificate not trusted: {why.rstrip('.')} (a TLS-inspecting proxy? point SSL_CERT_FILE "
            "at its CA bundle)"
        )
    if isinstance(cause, ssl.SSLError):
        if cause.reason == "WRONG_VERSION_NUMBER":
            return "TLS handshake failed: the host does not speak TLS there (plain http on that port?)"
        reason = (cause.reason or "").replace("_", " ").lower()
        return f"TLS handshake failed: {reason}" if reason else "TLS handshake failed"
    if isinstance(cause, socket.gaierror):
        return (cause.strerror or "the host name could not be resolved").lower()
    if isinstance(cause, OSError) and isinstance(cause.errno, int) and cause.errno > 0:
        try:
            return os.strerror(cause.errno).lower()
        except ValueError:
            return None
    return None


def _detail(error: BaseException, scrub: Scrubber) -> str:
    """httpx's own message, scrubbed before it is cut (a piece of a token is not recognisable)."""
    return " ".join(scrub(str(error)).split())[:_DETAIL_LIMIT]
