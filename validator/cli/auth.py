"""The commands that obtain a token or write connector.yaml from one: `login` and `init`.

Only option parsing lives here; the work is in `validator.login` and `validator.init`, imported inside each
command so that `connector-validator --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from validator.cli.options import DEFAULT_SPEC, DEFAULT_SPEC_SHOWN, ApiUrl, Force, SpecPath, Verbose, finite
from validator.model import DEFAULT_TOKEN_ENV, AuthMode

LOGIN_NOTE = "Once a token is obtained, 0 to 4 are those of `validate`."


def login(
    path: SpecPath = Path(DEFAULT_SPEC),
    api_url: ApiUrl = None,
    authorize_url: Annotated[
        str | None,
        typer.Option("--authorize-url", metavar="URL", help="Authorize host (default: app.intercom.com)."),
    ] = None,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Print the authorize URL only.")] = False,
    timeout: Annotated[
        float,
        typer.Option(
            metavar="SECONDS", min=0.1, max=86400, callback=finite, help="How long to wait for the browser."
        ),
    ] = 300.0,
    save: Annotated[
        Path | None, typer.Option("--save", metavar="FILE", help="Write the token to FILE (mode 0600).")
    ] = None,
    force: Force = False,
    print_token: Annotated[bool, typer.Option("--print-token", help="Print the token on stdout.")] = False,
) -> None:
    """Authorize the connector's OAuth app in a browser, then check the new token like `validate`.

    The client id and secret come from the variables named by auth.client_id_env and auth.client_secret_env.
    With --api-url the authorize page is asked there too. The token is shown or stored only with
    --print-token or --save.
    """
    from validator.login.command import LoginRequest, run_login

    request = LoginRequest(path, api_url, authorize_url, not no_browser, timeout, save, force, print_token)
    raise typer.Exit(run_login(request))


def init(
    token_env: Annotated[
        str, typer.Option("--token-env", metavar="NAME", help="The variable holding the token.")
    ] = DEFAULT_TOKEN_ENV,
    token_stdin: Annotated[bool, typer.Option("--token-stdin", help="Read the token from stdin.")] = False,
    api_url: ApiUrl = None,
    mode: Annotated[
        AuthMode,
        typer.Option("--mode", metavar="MODE", help="access_token (a private app) or oauth (a public app)."),
    ] = AuthMode.ACCESS_TOKEN,
    name: Annotated[
        str | None,
        typer.Option("--name", metavar="NAME", help="Connector name (default: the workspace's)."),
    ] = None,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help=f"Where to write.  [default: {DEFAULT_SPEC_SHOWN}]",
            show_default=False,
        ),
    ] = Path(DEFAULT_SPEC),
    force: Force = False,
    timeout: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            min=0.1,
            max=3600,
            callback=finite,
            help="Read timeout per request, in seconds.",
        ),
    ] = 15.0,
    compare: Annotated[
        Path | None,
        typer.Option(
            "--compare",
            metavar="PATH",
            help="Write nothing: say which of the token's permissions are excess for this connector.yaml.",
        ),
    ] = None,
    verbose: Verbose = False,
) -> None:
    """Write a connector.yaml declaring the workspace and every permission the token is granted."""
    from validator.init.command import run_init
    from validator.init.request import InitRequest

    request = InitRequest(
        output, token_env, token_stdin, api_url, mode, name, force, timeout, compare, verbose
    )
    raise typer.Exit(run_init(request))
