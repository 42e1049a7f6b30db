"""What `init` is asked to do, the exit codes it ends with, and the error that stops it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from validator.errors import ExitCode
from validator.model import DEFAULT_TOKEN_ENV, AuthMode

DEFAULT_OUTPUT = Path("connector.yaml")
DEFAULT_CLIENT_ID_ENV = "INTERCOM_CLIENT_ID"
DEFAULT_CLIENT_SECRET_ENV = "INTERCOM_CLIENT_SECRET"

EXIT_WRITTEN = 0
EXIT_NOTHING_GRANTED = 1  # the token has none of the catalog's permissions: a valid file cannot be written
EXIT_USAGE = int(ExitCode.USAGE)  # bad options, token variable unset, output exists without --force
EXIT_TOKEN_REJECTED = int(ExitCode.TOKEN_REJECTED)
EXIT_UNKNOWN = int(ExitCode.INCONCLUSIVE)  # GET /me gave no usable answer (network, 5xx, odd region)
EXIT_INTERNAL = 70  # the generated file failed its own check: a bug in this tool


class InitError(Exception):
    """Stops `init` with a one-line message and an exit code; nothing has been written."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class InitRequest:
    output: Path = DEFAULT_OUTPUT
    token_env: str = DEFAULT_TOKEN_ENV
    token_stdin: bool = False
    api_url: str | None = None
    mode: AuthMode = AuthMode.ACCESS_TOKEN
    name: str | None = None
    force: bool = False
    timeout: float = 15.0
