"""The `fleet` command: only parses options and calls `validator.fleet.run.run_fleet`.

Errors are raised, never printed here: `validator.cli.main` turns them into one line and an exit code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from validator.cli.options import DEFAULT_SPEC, ApiUrl, finite

FLEET_NOTE = (
    "The run's code is the most severe across installs: 20 (a token of another workspace), then 2 "
    "(a malformed line), 3, 1, 4, 0. Ctrl-C stops sending and still writes the summary (exit 130)."
)


def fleet(
    installs: Annotated[
        str,
        typer.Option(
            "--installs",
            metavar="FILE|-",
            help=(
                'JSON Lines, one install a line: {"workspace_id", "token", "region" (us|eu|au, optional), '
                '"label" (optional)}. "-" reads standard input (recommended: tokens never touch disk); '
                "a file "
                "must be readable by its owner only."
            ),
        ),
    ],
    spec: Annotated[
        Path,
        typer.Argument(
            metavar="CONNECTOR.yaml", help="The connector.yaml whose permissions every install needs."
        ),
    ] = Path(DEFAULT_SPEC),
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="Format of the main output: text (summary and installs needing action) or jsonl.",
        ),
    ] = "text",
    reports: Annotated[
        list[str] | None,
        typer.Option(
            "--report",
            metavar="FORMAT=FILE",
            help="Also write FORMAT=FILE (repeatable): markdown, csv or jsonl.",
        ),
    ] = None,
    api_url: ApiUrl = None,
    concurrency: Annotated[
        int,
        typer.Option(metavar="N", min=1, max=256, help="Requests in flight at most, across all installs."),
    ] = 32,
    timeout: Annotated[
        float,
        typer.Option(
            metavar="SECONDS", min=0.1, callback=finite, help="Read timeout per request, in seconds."
        ),
    ] = 15.0,
    retry_budget: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            min=0,
            callback=finite,
            help="Longest total wait per request, in seconds, for retries of 429, 5xx and network errors.",
        ),
    ] = 30.0,
) -> None:
    """Check every install of an OAuth app (one token per customer workspace) against a connector.yaml."""
    from validator.errors import UsageError
    from validator.fleet.outputs import FleetFormat
    from validator.fleet.run import FleetRequest, run_fleet

    try:
        fmt = FleetFormat(output_format)
    except ValueError:
        raise UsageError(
            f"fleet --format: unknown format {output_format!r} (choose from text, jsonl)"
        ) from None
    code = run_fleet(
        FleetRequest(
            spec_path=spec,
            installs=installs,
            output_format=fmt,
            reports=reports or [],
            api_url=api_url,
            concurrency=concurrency,
            timeout=timeout,
            retry_budget=retry_budget,
        )
    )
    raise typer.Exit(code)
