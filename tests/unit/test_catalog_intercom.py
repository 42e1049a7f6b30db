"""Intercom knowledge the code reads from the catalog, not from itself: where GET /me names the workspace,
the default Intercom-Version and the OAuth endpoints. Each test moves a piece in a copy of the catalog and
checks that the code follows it."""

from __future__ import annotations

import asyncio
import copy
import io
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml

import validator.catalog
from validator.catalog import Catalog, CatalogError, load_catalog, parse_catalog
from validator.checker import Checker
from validator.errors import ExitCode
from validator.intercom import IntercomClient
from validator.login.command import LoginRequest, run_login
from validator.login.protocol import LoginError
from validator.model import (
    Access,
    Auth,
    AuthMode,
    ConnectorSpec,
    DataType,
    Permission,
    Region,
    TokenStatus,
    Workspace,
)
from validator.plan import build_plan, identity_answers
from validator.validate import Ready, RunOptions, run_checks

RAW: dict[str, Any] = yaml.safe_load(
    (Path(validator.catalog.__file__).parent / "intercom.yaml").read_text(encoding="utf-8")
)
TOKEN = "dG9rOjAwY2F0YWxvZy1rbm93bGVkZ2UtdG9rZW4tYWJjZGVm"
SPEC = ConnectorSpec(
    path="connector.yaml",
    name="knowledge",
    workspace=Workspace("moved1", "Moved", Region.EU),
    auth=Auth(AuthMode.ACCESS_TOKEN),
    permissions=(Permission(DataType.TAGS, Access.READ),),
)


def _catalog(change: Callable[[dict[str, Any]], None]) -> Catalog:
    raw = copy.deepcopy(RAW)
    change(raw)
    return parse_catalog(raw)


def _workspace_elsewhere(raw: dict[str, Any]) -> None:
    """/me naming the workspace under `workspace` as code, title and zone, instead of app.id_code, ..."""
    raw["identity"]["workspace"] = {
        "id": "workspace.code",
        "name": "workspace.title",
        "region": "workspace.zone",
    }
    shape = raw["shapes"]["admin_with_app"]
    shape["required"] = ["type", "id", "workspace"]
    del shape["properties"]["app"]
    shape["properties"]["workspace"] = {
        "type": "object",
        "required": ["code"],
        "properties": {"code": {"type": "string"}, "title": {"type": "string"}, "zone": {"type": "string"}},
    }


def _identify(catalog: Catalog, body: dict[str, Any]) -> Any:
    async def go() -> Any:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
        async with IntercomClient("https://api.intercom.io", TOKEN, "2.15", transport=transport) as client:
            return await Checker(catalog).identify(client, "TOKEN")

    return asyncio.run(go())


def test_the_checker_reads_the_workspace_where_the_catalog_says() -> None:
    body = {"type": "admin", "id": "1", "workspace": {"code": "moved1", "title": "Moved", "zone": "EU"}}

    moved = _identify(_catalog(_workspace_elsewhere), body)
    shipped = _identify(load_catalog(), body)

    assert moved.token.status is TokenStatus.VALID and moved.identity is not None
    assert (moved.identity.sent_id, moved.identity.sent_name, moved.identity.sent_region) == (
        "moved1",
        "Moved",
        "EU",
    )
    assert moved.identity.region is Region.EU
    assert shipped.token.status is TokenStatus.UNKNOWN and shipped.identity is None  # no app.id_code


def test_the_shipped_catalog_reads_app_id_code_name_and_region() -> None:
    body = {
        "type": "admin",
        "id": "1",
        "app": {"type": "app", "id_code": "abc12xyz", "region": "au"},
    }

    identified = _identify(load_catalog(), body)

    assert identified.identity is not None
    assert (identified.identity.sent_id, identified.identity.sent_region) == ("abc12xyz", "au")
    assert identified.identity.sent_name is None and identified.identity.region is Region.AU


def test_plan_describes_the_fields_the_catalog_names() -> None:
    moved = identity_answers(_catalog(_workspace_elsewhere).identity)[0]
    shipped = identity_answers(load_catalog().identity)[0]

    assert moved == (
        "200 with type admin and workspace.code: the token is valid; workspace.code, workspace.zone and "
        "workspace.title are compared with `workspace` (proof)"
    )
    assert shipped == (
        "200 with type admin and app.id_code: the token is valid; app.id_code, app.region and app.name are "
        "compared with `workspace` (proof)"
    )


@pytest.mark.parametrize(
    ("field", "path", "words"),
    [
        ("name", "app.title", "must declare app.title"),
        ("region", "region", "must declare region"),
        ("id", "app.name", "must require app.name"),  # declared, but a 200 without it would still pass
        ("id", "app.id_code.x", "must declare app.id_code.x"),
    ],
)
def test_a_workspace_path_its_shape_lacks_is_a_catalog_error(field: str, path: str, words: str) -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["identity"]["workspace"][field] = path

    with pytest.raises(CatalogError, match=f"identity.workspace.{field}: shape 'admin_with_app' {words}$"):
        _catalog(change)


@pytest.mark.parametrize("missing", ["default_api_version", "oauth"])
def test_the_catalog_must_say_it(missing: str) -> None:
    with pytest.raises(CatalogError, match=missing):
        _catalog(lambda raw: raw.pop(missing))


def test_the_default_intercom_version_is_the_catalogs() -> None:
    catalog = _catalog(lambda raw: raw.update(default_api_version="2.15"))
    pinned = ConnectorSpec(**{**SPEC.__dict__, "api_version": "2.16"})
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Intercom-Version"])
        app = {"type": "app", "id_code": "moved1", "name": "Moved", "region": "eu"}
        if request.url.path == "/me":
            return httpx.Response(200, json={"type": "admin", "id": "1", "app": app})
        return httpx.Response(200, json={"type": "list", "data": []})

    options = RunOptions(
        api_url="https://api.intercom.io", transport_factory=lambda: httpx.MockTransport(answer)
    )
    asyncio.run(run_checks([Ready(SPEC, TOKEN, "TOKEN")], options, catalog))

    assert seen and set(seen) == {"2.15"}
    assert build_plan(SPEC, catalog).api_version == "2.15"
    assert catalog.api_version_for(pinned) == build_plan(pinned, catalog).api_version == "2.16"
    assert load_catalog().api_version_for(SPEC) == "2.16"


OAUTH_SPEC = """\
version: 1
name: oauth-connector
platform: intercom
workspace:
  id: abc12xyz
auth:
  mode: oauth
  token_env: INTERCOM_ACCESS_TOKEN
  client_id_env: INTERCOM_CLIENT_ID
  client_secret_env: INTERCOM_CLIENT_SECRET
permissions:
  people: [read]
"""
ENVIRON = {"INTERCOM_CLIENT_ID": "knowledge-client", "INTERCOM_CLIENT_SECRET": "knowledge-secret"}


def _endpoints_moved(raw: dict[str, Any]) -> None:
    raw["oauth"] = {
        "authorize_base": "https://auth.example.test",
        "authorize_path": "/authorize2",
        "token_path": "/token2",
    }


def test_login_asks_the_catalogs_authorize_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "connector.yaml"
    spec.write_text(OAUTH_SPEC, encoding="utf-8")
    monkeypatch.setattr(validator.catalog, "load_catalog", lambda: _catalog(_endpoints_moved))
    opened: list[str] = []

    def browser(url: str) -> bool:
        opened.append(url)
        return True

    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.raises(LoginError) as caught:
        run_login(
            LoginRequest(spec, timeout=0.1),
            environ=ENVIRON,
            stdout=stdout,
            stderr=stderr,
            open_browser=browser,
        )

    assert caught.value.exit_code is ExitCode.LOGIN_TIMEOUT, stderr.getvalue()
    assert len(opened) == 1
    assert opened[0].startswith("https://auth.example.test/authorize2?client_id=knowledge-client&state=")


def test_login_trades_the_code_at_the_token_path_the_catalog_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "connector.yaml"
    spec.write_text(OAUTH_SPEC, encoding="utf-8")
    monkeypatch.setattr(validator.catalog, "load_catalog", lambda: _catalog(_endpoints_moved))
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{unused.getsockname()[1]}"
    pages: list[str] = []

    def browser(url: str) -> bool:
        query = parse_qs(urlsplit(url).query)
        pages.append(url)
        callback = f"{query['redirect_uri'][0]}?code=knowledge-code&state={query['state'][0]}"
        assert httpx.get(callback, timeout=5).status_code == 200
        return True

    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.raises(LoginError) as caught:
        run_login(
            LoginRequest(spec, api_url=dead, timeout=5),
            environ=ENVIRON,
            stdout=stdout,
            stderr=stderr,
            open_browser=browser,
        )

    assert caught.value.exit_code is ExitCode.LOGIN_NETWORK, stderr.getvalue()
    assert pages and pages[0].startswith(f"{dead}/authorize2?")  # --api-url replaces the host, not the path
    assert f"cannot reach {dead}/token2" in caught.value.message


def test_the_login_help_names_the_catalogs_authorize_host() -> None:
    from typer.testing import CliRunner

    from validator.cli import app

    help_text = " ".join(CliRunner().invoke(app, ["login", "--help"]).output.split())
    host = urlsplit(load_catalog().oauth.authorize_base).hostname
    assert f"(default: {host})" in help_text
