"""`login`: get an OAuth token for a connector's public app, then check it like `validate` does.

The flow (API-NOTES §7): a loopback listener (`listener`) receives the browser's redirect from the authorize
page (`protocol`); the code is exchanged once (`exchange`). The token is then written only where the user
asked (`--save` with mode 0600, `token_file`, or `--print-token`), and every other line of output passes
through a `Scrubber` that knows the token, the code and the client secret.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from validator.errors import ExitCode, ValidatorError
from validator.login.exchange import exchange_code
from validator.login.listener import listen
from validator.login.protocol import (
    ClientCredentials,
    LoginError,
    authorize_url,
    client_credentials,
    code_from,
)
from validator.login.token_file import check_save_target, save_token
from validator.model import AuthMode, ConnectorSpec

if TYPE_CHECKING:
    from validator.report import Report
    from validator.tokens import Scrubber

DEFAULT_TIMEOUT = 300.0


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
) -> ExitCode:
    """Run `login` end to end and return the new token's verdict (0-4, as `validate`); OK at once for an
    access-token connector. Anything that stops it before is a LoginError, its message scrubbed of every
    secret, for the CLI to print."""
    from validator.formats import Format, render
    from validator.tokens import Scrubber

    environ = os.environ if environ is None else environ
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    scrub = Scrubber([])
    try:
        spec = _load(request.path)
        if spec.auth.mode is AuthMode.ACCESS_TOKEN:
            stdout.write(access_token_help(spec))
            return ExitCode.OK
        credentials = client_credentials(spec, environ)
        scrub = Scrubber([credentials.client_secret])
        api_url, authorize_page, token_url = _endpoints(spec, request)
        if request.save is not None:
            check_save_target(request.save, replace=request.force)
        code = _authorize(request, credentials, authorize_page, stdout, stderr, open_browser)
        scrub = Scrubber([credentials.client_secret, code])
        token = exchange_code(token_url, code, credentials)
        scrub = Scrubber([credentials.client_secret, code, token])
        if request.save is not None:
            save_token(request.save, token, replace=request.force)
    except ValidatorError as error:
        raise error.scrubbed(scrub) from None
    _announce(request, token, stdout, scrub)
    report = _check(spec, token, api_url)
    stdout.write(scrub(render(Format.TEXT, report)))
    return report.exit_code


def _load(path: Path) -> ConnectorSpec:
    from validator.spec import SpecError, SpecFileError, load_spec

    try:
        return load_spec(path)
    except SpecFileError as error:
        raise LoginError(str(error), ExitCode.USAGE) from None
    except SpecError as error:
        raise LoginError(error.problems[0].format(), ExitCode.USAGE) from None


def _endpoints(spec: ConnectorSpec, request: LoginRequest) -> tuple[str | None, str, str]:
    """(--api-url checked, the authorize page, the token URL), from the catalog's OAuth endpoints.

    By default the authorize page is on the catalog's authorize host (app.intercom.com) and the token URL on
    the regional API host; --authorize-url and --api-url replace those hosts, the paths stay.
    """
    from validator.catalog import load_catalog
    from validator.intercom import ApiUrlError, check_api_url

    try:
        api_url = check_api_url(request.api_url) if request.api_url else None
        authorize = check_api_url(request.authorize_url) if request.authorize_url else None
    except ApiUrlError as error:
        raise LoginError(str(error), ExitCode.USAGE) from None
    catalog = load_catalog()
    oauth = catalog.oauth
    api_base = api_url or catalog.hosts[spec.workspace.region]
    authorize_base = authorize or api_url or oauth.authorize_base
    return api_url, authorize_base + oauth.authorize_path, api_base + oauth.token_path


def _authorize(
    request: LoginRequest,
    credentials: ClientCredentials,
    authorize_page: str,
    stdout: TextIO,
    stderr: TextIO,
    open_browser: Callable[[str], bool] | None,
) -> str:
    """Show the authorize page and wait for the browser to come back with a code."""
    state = secrets.token_urlsafe(32)
    with listen(state) as listener:
        url = authorize_url(authorize_page, credentials.client_id, state, listener.redirect_uri)
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
            f"no authorization arrived within {request.timeout:g} s{ignored}; run login again",
            ExitCode.LOGIN_TIMEOUT,
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


__all__ = ["LoginRequest", "access_token_help", "run_login"]
