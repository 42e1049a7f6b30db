"""The OAuth flow of API-NOTES §7: authorize redirects with a code, the code buys a working token."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandbox.support import client_for
from validator.sandbox import Sandbox
from validator.sandbox.config import Consent, default_config
from validator.sandbox.oauth import redirect_matches

CLIENT_ID, SECRET = "sandbox-oauth-client", "sandbox-oauth-secret"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def _authorize(
    client: httpx.Client, redirect: str | None = "http://127.0.0.1:53412/callback", **extra: str
) -> httpx.Response:
    params = {"client_id": CLIENT_ID, "state": "s-42", **extra}
    if redirect is not None:
        params["redirect_uri"] = redirect
    return client.get("/oauth", params=params)


def _code(response: httpx.Response) -> str:
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["s-42"]
    return query["code"][0]


def _exchange(client: httpx.Client, code: str, secret: str = SECRET) -> httpx.Response:
    return client.post(
        "/auth/eagle/token", data={"code": code, "client_id": CLIENT_ID, "client_secret": secret}
    )


def test_authorize_redirects_to_the_loopback_callback_on_any_port() -> None:
    with client_for(Sandbox(), None) as client:
        response = _authorize(client)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("http", "127.0.0.1:53412", "/callback")
    assert _code(response)


def test_a_code_ending_in_equals_survives_the_round_trip() -> None:
    sandbox = Sandbox()
    with client_for(sandbox, None) as client:
        codes = [_code(_authorize(client)) for _ in range(3)]
        padded = next(code for code in codes if code.endswith("="))
        assert {code.endswith("==") for code in codes} == {True, False}  # padding varies, as it may live
        granted = _exchange(client, padded)
    assert granted.status_code == 200


def test_the_exchanged_token_works_with_the_clients_permissions() -> None:
    sandbox = Sandbox()
    with client_for(sandbox, None) as client:
        body = _exchange(client, _code(_authorize(client))).json()
    assert body["token_type"] == "Bearer"
    assert body["token"] == body["access_token"]
    with client_for(sandbox, body["token"]) as api:
        me = api.get("/me").json()
        assert me["app"]["id_code"] == "abc12xyz"
        assert api.get("/conversations").status_code == 200
    assert body["token"] not in repr(sandbox.log.entries)


def test_a_code_works_once() -> None:
    with client_for(Sandbox(), None) as client:
        code = _code(_authorize(client))
        assert _exchange(client, code).status_code == 200
        reused = _exchange(client, code)
    assert reused.status_code == 401
    assert reused.json()["errors"][0]["message"] == "Unauthorized Code"


@pytest.mark.parametrize(("code", "secret"), [("made-up=", SECRET), (None, "wrong-secret")])
def test_a_bad_code_or_secret_is_unauthorized(code: str | None, secret: str) -> None:
    sandbox = Sandbox()
    with client_for(sandbox, None) as client:
        real = _code(_authorize(client))
        response = _exchange(client, code or real, secret)
        assert response.status_code == 401
        assert response.json() == {
            "type": "error.list",
            "request_id": response.json()["request_id"],
            "errors": [{"code": "unauthorized", "message": "Unauthorized Code"}],
        }
        if code is None:  # a wrong secret does not burn the code
            assert _exchange(client, real).status_code == 200
    logged = repr(sandbox.log.entries)
    assert SECRET not in logged and "wrong-secret" not in logged and real not in logged


def test_an_expired_code_is_refused() -> None:
    clock = FakeClock()
    sandbox = Sandbox(clock=clock)
    with client_for(sandbox, None) as client:
        code = _code(_authorize(client))
        clock.now += 301
        assert _exchange(client, code).status_code == 401


def test_unknown_client_and_unregistered_redirect_are_400() -> None:
    with client_for(Sandbox(), None) as client:
        assert client.get("/oauth", params={"client_id": "nobody", "state": "x"}).status_code == 400
        assert _authorize(client, "https://evil.test/callback").status_code == 400
        assert _authorize(client, "http://127.0.0.1:8080/other").status_code == 400
        assert _authorize(client, None).status_code == 302  # the registered URL is the default


def test_a_denying_user_sends_access_denied_back() -> None:
    base = default_config()
    denying = dataclasses.replace(base.oauth_clients[0], consent=Consent.DENY)
    with client_for(Sandbox(dataclasses.replace(base, oauth_clients=(denying,))), None) as client:
        response = _authorize(client)
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert response.status_code == 302
    assert query == {"error": ["access_denied"], "state": ["s-42"]}


@pytest.mark.parametrize(
    ("registered", "candidate", "matches"),
    [
        ("http://127.0.0.1/callback", "http://127.0.0.1:4242/callback", True),
        ("http://[::1]/cb", "http://[::1]:4242/cb", True),
        ("http://127.0.0.1/callback", "http://127.0.0.1:4242/callback/x", False),
        ("https://app.test/cb", "https://app.test:444/cb", False),
        ("http://localhost/cb", "http://localhost:4242/cb", False),  # RFC 8252: IP literals only
        ("https://app.test/cb", "https://app.test/cb", True),
    ],
)
def test_redirect_matching_follows_rfc_8252(registered: str, candidate: str, matches: bool) -> None:
    assert redirect_matches(registered, candidate) is matches
