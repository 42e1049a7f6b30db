"""The `login`, `init` and `plan` commands, registered on the app of `validator.cli`.

Only option parsing lives here; the work is in `validator.login`, `validator.init` and `validator.plan`,
imported inside each command so that `connector-validator --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from validator.cli import DEFAULT_SPEC, app, fail, finite
from validator.formats import Format
from validator.model import DEFAULT_TOKEN_ENV, AuthMode

API_URL_HELP = "Replace the Intercom API host (a proxy, or the sandbox). https unless loopback."

LOGIN_EXIT_CODES_HELP = """
Exit codes: once a token is obtained, those of `validate` (0 pass, 1 a permission missing or the workspace
mismatches, 3 the new token rejected, 4 inconclusive). Before: 2 usage or connector.yaml error; 10 no callback
with this login's state before --timeout (one with a missing or wrong state gets an error page and the wait
goes on); 11 consent denied; 12 twenty callbacks with a missing or wrong state; 13 the code was refused (401
Unauthorized Code); 14 the token endpoint could not be reached; 15 an answer that could not be used. With
auth.mode access_token, login explains where the token comes from and exits 0.
"""

INIT_EXIT_CODES_HELP = """
Exit codes: 0 written; 1 the token has none of the checkable permissions (nothing written: a connector.yaml
must declare at least one); 2 usage error (token variable unset, output exists without --force); 3 Intercom
rejected the token; 4 GET /me gave no usable answer (network, server error).
"""


SpecPath = Annotated[Path, typer.Argument(metavar="PATH", help="The connector.yaml.")]
ApiUrl = Annotated[
    str | None,
    typer.Option("--api-url", metavar="URL", envvar="INTERCOM_API_URL", help=API_URL_HELP),
]
Force = Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")]


@app.command(epilog=LOGIN_EXIT_CODES_HELP)
def login(
    path: SpecPath = Path(DEFAULT_SPEC),
    api_url: ApiUrl = None,
    authorize_url: Annotated[
        str | None,
        typer.Option("--authorize-url", metavar="URL", help="Authorize host (default: app.intercom.com)."),
    ] = None,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Print the authorize URL only.")] = False,
    timeout: Annotated[
        float, typer.Option(min=0.1, max=86400, callback=finite, help="Seconds to wait for the browser.")
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


@app.command(epilog=INIT_EXIT_CODES_HELP)
def init(
    token_env: Annotated[
        str, typer.Option("--token-env", metavar="NAME", help="The variable holding the token.")
    ] = DEFAULT_TOKEN_ENV,
    token_stdin: Annotated[bool, typer.Option("--token-stdin", help="Read the token from stdin.")] = False,
    api_url: ApiUrl = None,
    mode: Annotated[
        AuthMode, typer.Option("--mode", help="access_token (a private app) or oauth (a public app).")
    ] = AuthMode.ACCESS_TOKEN,
    name: Annotated[
        str | None, typer.Option("--name", help="Connector name (default: the workspace's).")
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", metavar="PATH", help="Where to write.")] = Path(
        DEFAULT_SPEC
    ),
    force: Force = False,
    timeout: Annotated[
        float, typer.Option(min=0.1, max=3600, callback=finite, help="Read timeout per request, in seconds.")
    ] = 15.0,
) -> None:
    """Write a connector.yaml declaring the workspace and every permission the token is granted."""
    from validator.init.command import run_init
    from validator.init.request import InitRequest

    request = InitRequest(output, token_env, token_stdin, api_url, mode, name, force, timeout)
    raise typer.Exit(run_init(request))


@app.command()
def plan(
    path: SpecPath = Path(DEFAULT_SPEC),
    output_format: Annotated[Format, typer.Option("--format", "-f", help="text or json.")] = Format.TEXT,
) -> None:
    """Show what `validate` would send and how each answer is read; offline, no token needed.

    Exit codes: 0 shown, 2 unreadable or invalid connector.yaml, or a usage error.
    """
    from validator.formats import Subject, UnsupportedFormat, renderer
    from validator.plan import PlanError, load_plan

    try:
        text = renderer(output_format, Subject.PLAN)(load_plan(path))
    except (UnsupportedFormat, PlanError) as error:
        fail(str(error))
    typer.echo(text, nl=False)
