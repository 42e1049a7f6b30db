"""The sandbox's two switches for issue 10: `/me` needing "Read admins", and write routes answered as if
Intercom did not serve them (API-NOTES §2 and §3)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sandbox.support import FULL, client_for, error_code, token, with_tokens
from validator.sandbox import Label, Sandbox, SandboxConfigError, load_config
from validator.sandbox.config import MissingPermissionStyle, SandboxConfig, default_config
from validator.sandbox.permissions import ALL_LABELS

NO_READ_ADMINS = ALL_LABELS - {Label.READ_ADMINS}


def switched(config: SandboxConfig, **changes: object) -> Sandbox:
    sandbox = Sandbox(config)
    sandbox.update(**changes)
    return sandbox


def test_by_default_me_needs_no_permission() -> None:
    sandbox = Sandbox(with_tokens(token("nothing")))
    with client_for(sandbox, "nothing") as client:
        assert client.get("/me").status_code == 200


def test_the_switch_makes_me_need_read_admins() -> None:
    config = with_tokens(token("no-admins", *NO_READ_ADMINS), token("admins", Label.READ_ADMINS))
    sandbox = switched(config, me_requires_read_admins=True)
    with client_for(sandbox, "no-admins") as client:
        refused = client.get("/me")
        assert (refused.status_code, error_code(refused)) == (401, "token_unauthorized")
        assert "x-ratelimit-limit" in refused.headers  # the credentials are valid
        assert client.get("/contacts").status_code == 200  # other routes are unchanged
    with client_for(sandbox, "admins") as client:
        assert client.get("/me").status_code == 200


def test_me_refused_in_the_forbidden_style_names_the_scope() -> None:
    config = with_tokens(token("no-admins", *NO_READ_ADMINS))
    workspace = config.workspaces[0]
    styled = dataclasses.replace(
        workspace, missing_permission_style={"default": MissingPermissionStyle.FORBIDDEN}
    )
    sandbox = switched(config, me_requires_read_admins=True, workspaces=(styled, *config.workspaces[1:]))
    with client_for(sandbox, "no-admins") as client:
        refused = client.get("/me")
    assert (refused.status_code, error_code(refused)) == (403, "forbidden")
    assert "required scope (read_admins)" in refused.json()["errors"][0]["message"]


def test_a_revoked_token_is_still_refused_as_a_token_where_me_needs_read_admins() -> None:
    sandbox = switched(default_config(), me_requires_read_admins=True)
    with client_for(sandbox, "sandbox-revoked-0003") as client:
        refused = client.get("/me")
    assert (refused.status_code, error_code(refused)) == (401, "token_revoked")


def test_an_absent_route_answers_like_an_unknown_one_whatever_the_permission() -> None:
    sandbox = switched(default_config(), absent_routes=frozenset({"PUT /companies/{id}"}))
    with client_for(sandbox) as client:
        absent = client.put("/companies/000000000000000000000000", json={"custom_attributes": "invalid"})
        unknown = client.put("/connector_validator_route_check/0", json={})
        served = client.put("/admins/0/away", json={})
    for answer in (absent, unknown):
        assert (answer.status_code, answer.json()["errors"]) == (
            404,
            [{"code": "not_found", "message": "Resource Not Found"}],
        )
    assert error_code(served) == "admin_not_found"
    assert sandbox.log.mutations == []


def test_an_unknown_route_answers_the_route_miss_404_only_to_valid_credentials() -> None:
    """A route miss is judged after the token (app.py step 6): an unknown token still gets 401."""
    with client_for(Sandbox(), "not-a-token-at-all-0000") as client:
        assert error_code(client.put("/connector_validator_route_check/0", json={})) == "unauthorized"
    with client_for(Sandbox(), FULL) as client:
        assert error_code(client.put("/connector_validator_route_check/0", json={})) == "not_found"


def test_the_switches_load_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.yaml"
    path.write_text(
        "workspaces:\n  - id_code: w1\n    name: W\n    admins: [{id: 1, name: A, email: a@w.test}]\n"
        "me_requires_read_admins: true\nabsent_routes: ['PUT /companies/{id}']\n"
    )
    config = load_config(path)
    assert config.me_requires_read_admins is True
    assert config.absent_routes == frozenset({"PUT /companies/{id}"})
    assert default_config().me_requires_read_admins is False and default_config().absent_routes == frozenset()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("absent_routes: ['PUT /nowhere/{id}']", "is not a sandbox route"),
        ("me_requires_read_admins: maybe", "me_requires_read_admins"),
    ],
)
def test_a_bad_switch_is_a_config_error(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "sandbox.yaml"
    path.write_text(
        "workspaces:\n  - id_code: w1\n    name: W\n    admins: [{id: 1, name: A, email: a@w.test}]\n"
        f"{line}\n"
    )
    with pytest.raises(SandboxConfigError, match=message):
        load_config(path)
