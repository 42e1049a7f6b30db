"""The token exchange of `login`: the authorization code traded once for a token (API-NOTES §7).

A POST to the catalog's token path (`oauth.token_path`) with form fields; the answer is read with a
deadline and a size limit, and a value that cannot be an Intercom token is refused before it is printed,
saved or sent anywhere.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from validator.errors import ExitCode
from validator.login.protocol import (
    ClientCredentials,
    LoginError,
)

if TYPE_CHECKING:
    import httpx

EXCHANGE_TIMEOUT = 15.0


def exchange_code(
    url: str,
    code: str,
    credentials: ClientCredentials,
    *,
    timeout: float = EXCHANGE_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> str:
    """Trade the code for a token with a POST to `url`, the token endpoint (form fields, API-NOTES §7)."""
    import httpx

    from validator.connections import tls_context
    from validator.intercom import MAX_BODY_BYTES, uses_environment_proxies
    from validator.tokens import token_problem

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
                trust_env=uses_environment_proxies(url),
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
            f"no answer from {url} within {timeout:g} s; check the network and retry", ExitCode.LOGIN_NETWORK
        ) from None
    except httpx.TransportError as error:
        raise LoginError(f"cannot reach {url}: {type(error).__name__}", ExitCode.LOGIN_NETWORK) from None
    except httpx.DecodingError:
        raise LoginError(
            "the token endpoint answered a body that could not be used (compressed, broken or over 1 MiB); "
            "nothing was saved",
            ExitCode.LOGIN_UNEXPECTED,
        ) from None
    if response.status_code == 401:
        raise LoginError(
            "Intercom refused the authorization code (401 Unauthorized Code): codes work once and expire "
            "after about 5 minutes, and the client secret must be the app's; run login again",
            ExitCode.LOGIN_CODE_REJECTED,
        )
    token = _token_in(bytes(content))
    if response.status_code != 200 or token is None:
        raise LoginError(
            f"the token endpoint answered {response.status_code} without a token; nothing was saved",
            ExitCode.LOGIN_UNEXPECTED,
        )
    # Before the token is printed, saved, scrubbed or sent in a header: a value with a newline would end up
    # in an exception message, and a one-letter value would make the scrubber mangle every line.
    problem = token_problem(token)
    if problem is not None:
        raise LoginError(
            f"the token endpoint answered a value that cannot be an Intercom token ({problem}); "
            "nothing was saved",
            ExitCode.LOGIN_UNEXPECTED,
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
