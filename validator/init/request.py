"""What `init` is asked to do, and the error that stops it (carrying its `ExitCode`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from validator.errors import ValidatorError
from validator.model import DEFAULT_TOKEN_ENV, AuthMode

DEFAULT_OUTPUT = Path("connector.yaml")
DEFAULT_CLIENT_ID_ENV = "INTERCOM_CLIENT_ID"
DEFAULT_CLIENT_SECRET_ENV = "INTERCOM_CLIENT_SECRET"


class InitError(ValidatorError):
    """Stops `init` with a one-line message and its exit code; nothing has been written."""


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
    compare: Path | None = None  # an existing connector.yaml: say what the token has beyond it; write nothing
    verbose: bool = False  # every attempt's outcome on stderr
