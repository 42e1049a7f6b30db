"""The commands around the built-in Intercom sandbox: `demo` and `sandbox`.

Each only parses options and calls the core, imported inside the command so that `--help` stays fast.
Errors are raised, never printed here: `validator.cli.main` turns them into one line and an exit code.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from validator.errors import UsageError


def demo() -> None:
    """Run `validate` on the example connector.yaml against a built-in Intercom sandbox (no token needed)."""
    from validator.demo import run_demo

    raise typer.Exit(run_demo())


def sandbox(
    config: Annotated[
        Path | None, typer.Option("--config", metavar="FILE", help="Sandbox configuration (YAML).")
    ] = None,
    port: Annotated[
        int, typer.Option(metavar="N", min=0, max=65535, help="Port on 127.0.0.1; 0 picks a free one.")
    ] = 0,
    print_installs: Annotated[
        bool,
        typer.Option(
            "--print-installs",
            help="Print the config's active tokens as `fleet --installs` lines and exit (serves nothing).",
        ),
    ] = False,
) -> None:
    """Serve the Intercom sandbox on 127.0.0.1 to rehearse CI wiring offline."""
    from validator.sandbox.cli_entry import print_installs as print_sandbox_installs
    from validator.sandbox.cli_entry import run

    if print_installs:
        print_sandbox_installs(config, sys.stdout)
        return
    try:
        run(config, port, sys.stdout)  # an unusable config raises SandboxConfigError (exit code 2)
    except OSError as error:
        raise UsageError(f"cannot serve on 127.0.0.1:{port}: {error.strerror or error}") from None
