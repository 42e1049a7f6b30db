"""What the commands share: option types and callbacks, glob expansion, and the exit-code epilogs.

Only the standard library, Typer, `validator.errors` and `validator.terminal` here: every command module
imports this one, and `connector-validator --version` imports every command module.
"""

from __future__ import annotations

import math
import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from validator.errors import ANY_COMMAND, EXIT_CODES, UsageError
from validator.terminal import Verbosity

DEFAULT_SPEC = "connector.yaml"
# How --help shows the default: the file in the current directory, which is where it is looked for.
DEFAULT_SPEC_SHOWN = "./connector.yaml"
API_URL_HELP = "Replace the regional Intercom host (a proxy, or the sandbox). https unless loopback."

# Placeholders in --help are one style: an upper-case word naming what to write (FILE, URL, NAME, FORMAT,
# SECONDS, N), never Click's `<path>` or `<float range>`.
SpecPath = Annotated[
    Path,
    typer.Argument(
        metavar="[PATH]", help=f"The connector.yaml.  [default: {DEFAULT_SPEC_SHOWN}]", show_default=False
    ),
]
ApiUrl = Annotated[
    str | None,
    typer.Option("--api-url", metavar="URL", envvar="INTERCOM_API_URL", help=API_URL_HELP),
]
Force = Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the result line and errors.")]
Verbose = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Also print every request and its answer's status on stderr."),
]


def verbosity(quiet: bool, verbose: bool) -> Verbosity:
    if quiet and verbose:
        raise UsageError("--quiet and --verbose cannot be used together")
    return Verbosity.QUIET if quiet else Verbosity.VERBOSE if verbose else Verbosity.NORMAL


def expand(patterns: list[str]) -> list[Path]:
    """Paths as given, with glob patterns expanded (sorted); a pattern matching nothing is a usage error."""
    import glob

    paths: list[Path] = []
    for pattern in patterns:
        # A file named like a pattern (`[prod].yaml`) is that file: names come before globs.
        if glob.has_magic(pattern) and not os.path.lexists(pattern):
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                raise UsageError(f"no file matches {pattern!r}")
            paths.extend(Path(match) for match in matches)
        else:
            paths.append(Path(pattern))
    return paths


TODAY_ENV = "CONNECTOR_VALIDATOR_TODAY"


def policy_today() -> date | None:
    """The date waivers are judged on: `CONNECTOR_VALIDATOR_TODAY` (YYYY-MM-DD, for reproducible runs and
    tests) when set, else None (today's date in UTC)."""
    value = os.environ.get(TODAY_ENV, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{TODAY_ENV} must be a date (YYYY-MM-DD), got {value[:20]!r}") from None


def finite(value: float) -> float:
    """Option callback: refuse `nan` and `inf`, which every `min=`/`max=` comparison lets through."""
    if not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a number of seconds")
    return value


def exit_codes_help(command: str, note: str = "") -> str:
    """The `--help` epilog of `command`: each code it can end with (`validator.errors.EXIT_CODES`) and
    what it means for that command, then `note`, then the codes any command can end with."""
    own = "; ".join(f"{code.value} {code.meaning_for(command)}" for code in EXIT_CODES[command])
    common = "; ".join(f"{code.value} {code.meaning_for(command)}" for code in ANY_COMMAND)
    return " ".join(part for part in (f"Exit codes: {own}.", note, f"Any command: {common}.") if part)
