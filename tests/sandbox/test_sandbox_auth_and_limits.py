"""Identity, tokens, versions and rate limits (API-NOTES §1, §2, §3, §6)."""

from __future__ import annotations

import dataclasses

import pytest

from sandbox.support import AU_FULL, EU_FULL, FULL, REVOKED, client_for, error_code, token, with_tokens
from validator.sandbox import RateLimitConfig, Sandbox
from validator.sandbox.config import TokenStatus


class FakeClock:
    def __init__(self, now: float = 1_700_000_003.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("value", "id_code", "name", "region"),
    [
        (FULL, "abc12xyz", "Acme Support", "US"),
        (EU_FULL, "eu34wksp", "Acme Europe", "EU"),
        (AU_FULL, "au56wksp", "Acme Australia", "AU"),
    ],
)
def test_me_names_the_admin_and_embeds_the_workspace(
    value: str, id_code: str, name: str, region: str
) -> None:
    with client_for(Sandbox(), value) as client:
        me = client.get("/me").json()
    assert me["type"] == "admin"
    assert (me["app"]["id_code"], me["app"]["name"], me["app"]["region"]) == (id_code, name, region)


def test_me_acts_for_the_tokens_admin() -> None:
    with client_for(Sandbox()) as client:
        me = client.get("/me").json()
    assert (me["id"], me["name"], me["email"]) == ("991267459", "Ciaran Lee", "admin@acme.test")


def test_a_revoked_token_gets_token_revoked_without_rate_limit_headers() -> None:
    with client_for(Sandbox(), REVOKED) as client:
        response = client.get("/me")
    assert (response.status_code, error_code(response)) == (401, "token_revoked")
    assert "X-RateLimit-Remaining" not in response.headers


@pytest.mark.parametrize("authorization", [None, "Basic abc", "Bearer", "Bearer   "])
def test_missing_or_malformed_credentials_are_unauthorized(authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    with client_for(Sandbox(), None, **headers) as client:
        response = client.get("/me")
    assert (response.status_code, error_code(response)) == (401, "unauthorized")


def test_an_invalid_marked_token_is_treated_as_unknown() -> None:
    config = with_tokens(dataclasses.replace(token("marked-invalid"), status=TokenStatus.INVALID))
    with client_for(Sandbox(config), "marked-invalid") as client:
        response = client.get("/me")
    assert (response.status_code, error_code(response)) == (401, "unauthorized")


def test_authenticated_answers_carry_rate_limit_headers_that_count_down() -> None:
    clock = FakeClock(1_700_000_003.0)
    sandbox = Sandbox(with_tokens(rate_limit=RateLimitConfig(limit=5, window_seconds=10)), clock=clock)
    with client_for(sandbox) as client:
        first, second = client.get("/tags"), client.post("/tags", json={})
    assert first.headers["X-RateLimit-Limit"] == "5"
    assert (first.headers["X-RateLimit-Remaining"], second.headers["X-RateLimit-Remaining"]) == ("4", "3")
    assert first.headers["X-RateLimit-Reset"] == "1700000010"
    assert "Retry-After" not in first.headers


def test_the_budget_refills_in_the_next_window() -> None:
    clock = FakeClock(1_700_000_000.0)
    sandbox = Sandbox(with_tokens(rate_limit=RateLimitConfig(limit=1, window_seconds=10)), clock=clock)
    with client_for(sandbox) as client:
        assert client.get("/me").status_code == 200
        over = client.get("/me")
        assert over.status_code == 429
        assert over.headers["Retry-After"] == "10"
        clock.now += 10
        assert client.get("/me").status_code == 200


def test_budgets_are_per_workspace() -> None:
    sandbox = Sandbox(with_tokens(rate_limit=RateLimitConfig(limit=1, window_seconds=3600)))
    with client_for(sandbox, FULL) as acme, client_for(sandbox, EU_FULL) as europe:
        assert acme.get("/me").status_code == 200
        assert acme.get("/me").status_code == 429
        assert europe.get("/me").status_code == 200


def test_requests_without_valid_credentials_do_not_spend_the_budget() -> None:
    sandbox = Sandbox(with_tokens(rate_limit=RateLimitConfig(limit=1, window_seconds=3600)))
    with client_for(sandbox, "unknown") as stranger, client_for(sandbox) as client:
        for _ in range(3):
            assert stranger.get("/me").status_code == 401
        assert client.get("/me").status_code == 200


def test_an_unknown_version_is_refused() -> None:
    with client_for(Sandbox(), **{"Intercom-Version": "1.9"}) as client:
        response = client.get("/me")
    assert (response.status_code, error_code(response)) == (400, "intercom_version_invalid")
    assert (
        response.json()["errors"][0]["message"]
        == "Requested resource is not available in current API version."
    )


def test_an_accept_header_without_json_gets_406() -> None:
    with client_for(Sandbox(), Accept="text/html") as client:
        assert client.get("/me").status_code == 406
    with client_for(Sandbox(), Accept="application/json") as client:
        assert client.get("/me").status_code == 200


def test_an_unknown_path_is_404() -> None:
    with client_for(Sandbox()) as client:
        response = client.get("/widgets")
    assert (response.status_code, error_code(response)) == (404, "not_found")


def test_errors_use_the_documented_envelope() -> None:
    with client_for(Sandbox(), "unknown") as client:
        body = client.get("/me").json()
    assert body["type"] == "error.list"
    assert len(body["request_id"]) == 36
