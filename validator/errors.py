"""Every exit code of every command, and the one exception family that carries them.

`ExitCode` is the only table of exit codes: `--help`, the README's tables and the tests are generated from
it or iterate over it, so a new code cannot go undocumented. Each layer raises a subclass of
`ValidatorError` naming its code; the CLI turns any of them into one line on stderr and that code, in one
place.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a command's exit status means. Codes 0-4 are verdicts; the others say why there is none."""

    meaning: str

    def __new__(cls, value: int, meaning: str) -> ExitCode:
        member = int.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    OK = 0, "success: every check passed (validate), every file is valid (lint), the file was written (init)"
    FAILED = (
        1,
        (
            "a check failed: a permission missing or plan-restricted, or the workspace mismatches "
            "(validate); a file is invalid (lint); the token has no permission to declare (init)"
        ),
    )
    USAGE = 2, "usage or connector.yaml error, including the token variable being unset, empty or malformed"
    TOKEN_REJECTED = 3, "Intercom rejected the token (GET /me answered 401)"
    INCONCLUSIVE = 4, "inconclusive: nothing failed, but at least one verdict could not be reached"
    REPORT_NOT_WRITTEN = 5, "a --report/--output file or the GitHub step summary could not be written"
    STDOUT_FAILED = 6, "standard output is closed or could not be written (a full disk, an I/O error)"
    LOGIN_TIMEOUT = 10, "login: no callback arrived before --timeout"
    LOGIN_DENIED = 11, "login: the workspace admin did not authorize the app (access_denied)"
    LOGIN_STATE = 12, "login: callbacks with a missing or wrong state (possibly forged; nothing exchanged)"
    LOGIN_CODE_REJECTED = 13, "login: the token endpoint refused the code (expired, used, or wrong secret)"
    LOGIN_NETWORK = 14, "login: the token endpoint could not be reached"
    LOGIN_UNEXPECTED = (
        15,
        "login: a callback without a code, another OAuth error, or an answer without a token",
    )
    INTERNAL = 70, "a bug in this tool (EX_SOFTWARE), never a verdict; CONNECTOR_VALIDATOR_DEBUG=1 shows it"
    INTERRUPTED = 130, "interrupted (SIGINT, Ctrl-C)"
    BROKEN_PIPE = 141, "the reader of standard output went away (SIGPIPE)"
    TERMINATED = 143, "terminated (SIGTERM)"

    @property
    def severity(self) -> int:
        """Rank for combining several results into one exit code: the highest rank wins."""
        return _SEVERITY.get(self, 0)


# Not verdicts first: a run that could not deliver its report outranks whatever the report says. Among the
# verdicts: a usage error, then a rejected token, then a failure, then inconclusive, then success.
_SEVERITY = {
    ExitCode.INTERNAL: 10,
    ExitCode.TERMINATED: 9,
    ExitCode.INTERRUPTED: 8,
    ExitCode.BROKEN_PIPE: 7,
    ExitCode.STDOUT_FAILED: 6,
    ExitCode.REPORT_NOT_WRITTEN: 5,
    ExitCode.USAGE: 4,
    ExitCode.TOKEN_REJECTED: 3,
    ExitCode.FAILED: 2,
    ExitCode.INCONCLUSIVE: 1,
    ExitCode.OK: 0,
}


def most_severe(codes: list[ExitCode]) -> ExitCode:
    return max(codes, key=lambda code: code.severity, default=ExitCode.OK)


class ValidatorError(Exception):
    """An error a user can meet: one line of message (never a token) and the exit code it ends with.

    Each layer subclasses it; only the CLI turns it into output and an exit status.
    """

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self)
