"""Proxies from the environment never see a token over plain http: `validate` and `login`'s code exchange.

The proxy here is a loopback listener that records whatever reaches it; with a loopback `--api-url` it must
receive nothing, whichever of HTTP_PROXY / HTTPS_PROXY / ALL_PROXY (upper or lower case) is set.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from harness import CANARY, EXAMPLE, clean_env, served
from loopback import ProxyRecorder
from validator.sandbox.app import Sandbox
from validator.sandbox.config import SandboxConfig
from validator.sandbox.server import serve

pytestmark = pytest.mark.e2e

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def proxied_env(
    proxy: str, extra: dict[str, str], variables: tuple[str, ...] = PROXY_VARIABLES
) -> dict[str, str]:
    """The environment of a CI machine whose proxy `variables` name `proxy`, with no host exempted."""
    env = clean_env(extra)
    for name in (*PROXY_VARIABLES, "NO_PROXY", "no_proxy"):
        env.pop(name, None)
    env.update(dict.fromkeys(variables, proxy))
    return env


@pytest.mark.parametrize("variables", [PROXY_VARIABLES, *((name,) for name in PROXY_VARIABLES)])
def test_validate_with_a_loopback_api_url_sends_nothing_to_any_proxy(variables: tuple[str, ...]) -> None:
    with ProxyRecorder() as proxy, served() as world:
        env = proxied_env(
            proxy.url, {"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": world.base_url}, variables
        )
        run = subprocess.run(
            [sys.executable, "-m", "validator", "validate", str(EXAMPLE)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        sent = world.paths_sent()
    assert proxy.received == []
    assert run.returncode == 0, run.stdout + run.stderr
    assert "GET /me" in sent  # the requests went straight to the API host


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
  tags: [read]
"""
OAUTH_CONFIG = {
    "workspaces": [
        {
            "id_code": "abc12xyz",
            "name": "Acme Support",
            "admins": [{"id": "991267459", "name": "Ciaran Lee", "email": "admin@acme.test"}],
        }
    ],
    "oauth_clients": [
        {
            "client_id": "sandbox-oauth-client",
            "client_secret": "sandbox-oauth-secret",
            "redirect_urls": ["http://127.0.0.1/callback"],
            "workspace": "abc12xyz",
            "permissions": "all",
        }
    ],
}


def test_login_exchanges_the_code_with_a_loopback_api_url_without_any_proxy(tmp_path: Path) -> None:
    spec = tmp_path / "connector.yaml"
    spec.write_text(OAUTH_SPEC, encoding="utf-8")
    sandbox = Sandbox(SandboxConfig.from_dict(OAUTH_CONFIG))
    with ProxyRecorder() as proxy, serve(sandbox) as api_url:
        env = proxied_env(
            proxy.url,
            {"INTERCOM_CLIENT_ID": "sandbox-oauth-client", "INTERCOM_CLIENT_SECRET": "sandbox-oauth-secret"},
        )
        login = subprocess.Popen(
            [sys.executable, "-m", "validator", "login", str(spec), "--api-url", api_url, "--no-browser",
             "--timeout", "10"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert login.stdout is not None
            authorize = next((line.strip() for line in login.stdout if line.startswith("http")), None)
            assert authorize is not None, "login printed no authorize URL"
            # The test plays the browser, without any proxy (this process's environment is untouched).
            with httpx.Client(trust_env=False) as browser:
                callback = browser.get(authorize, follow_redirects=False).headers["location"]
                browser.get(callback)
            stdout, stderr = login.communicate(timeout=30)
        finally:
            if login.poll() is None:
                login.kill()
                login.wait(timeout=5)
        exchanged = [entry for entry in sandbox.log.entries if entry.path == "/auth/eagle/token"]
    assert proxy.received == []
    assert exchanged, "the code was never exchanged at the API host"
    assert login.returncode == 0, stdout + stderr
    assert "Authorized: Intercom issued a token." in stdout
