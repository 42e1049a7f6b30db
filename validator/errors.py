"""Every exit code of every command, and the one exception family that carries them.

`ExitCode` is the only table of exit codes, and `EXIT_CODES` says which command can end with which: the
commands' `--help`, the README's table (scripts/exit_codes.py) and the tests are generated from them or
iterate over them, so a new code cannot go undocumented. Each layer raises a subclass of `ValidatorError`
naming its code; the CLI turns any of them into one line on stderr and that code, in one place
(`validator.cli.main`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import IntEnum
from types import MappingProxyType
from typing import Self

_PERMISSION_OR_WORKSPACE = (
    "a declared permission is missing or plan-restricted, or the workspace id/region/name mismatches, or "
    'the token is valid but may not read GET /me (tick "Read admins") so the workspace is unverified, or '
    "the policy fails (a forbidden or excess permission granted, a waiver expired)"
)


class ExitCode(IntEnum):
    """What a command's exit status means. Codes 0-4 are verdicts; the others say why there is none.

    `meaning` is the one-line meaning for any command; where a command gives a code a narrower sense,
    `meaning_for(command)` says it in that command's words (the wording its `--help` uses). No meaning
    holds a semicolon: the help texts join them with semicolons.
    """

    meaning: str
    by_command: Mapping[str, str]

    def __new__(cls, value: int, meaning: str, by_command: Mapping[str, str] | None = None) -> ExitCode:
        member = int.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        member.by_command = MappingProxyType(dict(by_command or {}))
        return member

    OK = (
        0,
        "success",
        {
            "validate": "the token is valid, the workspace matches and every declared permission is granted",
            "login": (
                "the new token is valid, the workspace matches and every declared permission is granted "
                "(with auth.mode access_token: login explained where the token comes from)"
            ),
            "lint": "every file is valid",
            "init": "the file was written",
            "plan": "the plan was shown",
            "schema": "the schema was printed",
            "demo": "the demo went as designed (exactly the withheld permission reported missing)",
            "fleet": "every install passed",
        },
    )
    FAILED = (
        1,
        "a check failed",
        {
            "validate": _PERMISSION_OR_WORKSPACE,
            "login": _PERMISSION_OR_WORKSPACE,
            "lint": "a file is invalid",
            "init": (
                "the token has none of the checkable permissions (nothing written: a connector.yaml must "
                'declare at least one), or may not read GET /me (tick "Read admins"), which names the '
                "workspace to write"
            ),
            "demo": "the demo did not go as designed (please report it)",
            "fleet": (
                "an install lacks a declared permission or may not read GET /me (reauthorize), or its region "
                "mismatches"
            ),
        },
    )
    USAGE = (
        2,
        "usage or connector.yaml error, including the token variable being unset, empty or malformed",
        {
            "lint": (
                "usage error: a file missing or unreadable (without a path: ./connector.yaml), "
                "or a glob matching nothing"
            ),
            "init": "usage error (token variable unset, output exists without --force)",
            "plan": "unreadable or invalid connector.yaml, or a usage error",
            "sandbox": "unusable sandbox configuration, or the port cannot be served",
            "fleet": (
                "a usage or connector.yaml error, or a malformed install line (skipped, the run goes on)"
            ),
        },
    )
    TOKEN_REJECTED = (
        3,
        "Intercom rejected the token (GET /me answered 401 with any code but token_unauthorized, or, where "
        "GET /me was refused to a valid token, a probe did), and no permission is reported",
    )
    INCONCLUSIVE = (
        4,
        "inconclusive: nothing failed, but at least one verdict could not be reached",
        {"init": "GET /me gave no usable answer (network, server error), and nothing was written"},
    )
    REPORT_NOT_WRITTEN = (
        5,
        (
            "a --report/--output file or the GitHub step summary could not be written after the run "
            "(e.g. a full disk), the previous file being left as it was"
        ),
    )
    STDOUT_FAILED = (
        6,
        "standard output is closed or could not be written (e.g. a full disk)",
    )
    BASELINE_UNUSABLE = (
        7,
        (
            "the --baseline file could not be read or is not a JSON report of connector-validator, and "
            "nothing was sent"
        ),
    )
    LOGIN_TIMEOUT = (
        10,
        (
            "no callback with this login's state before --timeout (one with a missing or wrong state gets "
            "an error page and the wait goes on)"
        ),
    )
    LOGIN_DENIED = 11, "consent denied: the workspace admin did not authorize the app (access_denied)"
    LOGIN_STATE = (
        12,
        "twenty callbacks with a missing or wrong state (something other than the browser is calling, and "
        "nothing is exchanged)",
    )
    LOGIN_CODE_REJECTED = (
        13,
        "the token endpoint refused the code (401 Unauthorized Code: expired, used, or wrong client secret)",
    )
    LOGIN_NETWORK = 14, "the token endpoint could not be reached"
    LOGIN_UNEXPECTED = (
        15,
        "a callback without a code, another OAuth error, or an answer that could not be used",
    )
    WRONG_WORKSPACE = (
        20,
        (
            "fleet: an install's token belongs to another workspace than the workspace_id given for it "
            "(GET /me named another one), the worst failure"
        ),
    )
    INSTALLS_EXPOSED = (
        21,
        (
            "fleet: the --installs file is open to its group or others (chmod 600 it, or pipe the installs "
            "on standard input), and nothing was sent"
        ),
    )
    INTERNAL = 70, "a bug in this tool (EX_SOFTWARE), never a verdict: CONNECTOR_VALIDATOR_DEBUG=1 shows it"
    INTERRUPTED = 130, "interrupted (SIGINT, Ctrl-C)"
    BROKEN_PIPE = 141, "the reader of standard output went away (broken pipe)"
    TERMINATED = 143, "terminated (SIGTERM)"

    @property
    def severity(self) -> int:
        """Rank for combining several results into one exit code: the highest rank wins."""
        return _SEVERITY.get(self, 0)

    def meaning_for(self, command: str) -> str:
        """The meaning in `command`'s words: its own narrower sense if it has one, else `meaning`."""
        return self.by_command.get(command, self.meaning)


# Not verdicts first: a run that could not deliver its report outranks whatever the report says. Among the
# verdicts: a usage error, then a rejected token, then a failure, then inconclusive, then success.
# `fleet` ranks a token of another workspace above every other verdict: one customer's data moved with
# another's token is the worst failure a migration vendor can have.
_SEVERITY = {
    ExitCode.INTERNAL: 12,
    ExitCode.TERMINATED: 11,
    ExitCode.INTERRUPTED: 10,
    ExitCode.BROKEN_PIPE: 9,
    ExitCode.STDOUT_FAILED: 8,
    ExitCode.REPORT_NOT_WRITTEN: 7,
    ExitCode.INSTALLS_EXPOSED: 6,
    ExitCode.WRONG_WORKSPACE: 5,
    ExitCode.BASELINE_UNUSABLE: 7,
    ExitCode.USAGE: 4,
    ExitCode.TOKEN_REJECTED: 3,
    ExitCode.FAILED: 2,
    ExitCode.INCONCLUSIVE: 1,
    ExitCode.OK: 0,
}

VERDICTS = (ExitCode.OK, ExitCode.FAILED, ExitCode.USAGE, ExitCode.TOKEN_REJECTED, ExitCode.INCONCLUSIVE)
# What any command can end with, whatever it does: its output cannot be delivered, a bug, a signal.
ANY_COMMAND = (
    ExitCode.STDOUT_FAILED,
    ExitCode.INTERNAL,
    ExitCode.INTERRUPTED,
    ExitCode.BROKEN_PIPE,
    ExitCode.TERMINATED,
)
_LOGIN = (
    ExitCode.LOGIN_TIMEOUT,
    ExitCode.LOGIN_DENIED,
    ExitCode.LOGIN_STATE,
    ExitCode.LOGIN_CODE_REJECTED,
    ExitCode.LOGIN_NETWORK,
    ExitCode.LOGIN_UNEXPECTED,
)
# The codes each command can end with besides ANY_COMMAND's: its `--help` lists exactly these, and a test
# checks that every command of the CLI is here and every member of ExitCode is somewhere.
EXIT_CODES: Mapping[str, tuple[ExitCode, ...]] = MappingProxyType(
    {
        "validate": (*VERDICTS, ExitCode.REPORT_NOT_WRITTEN, ExitCode.BASELINE_UNUSABLE),
        "lint": (ExitCode.OK, ExitCode.FAILED, ExitCode.USAGE),
        "schema": (ExitCode.OK,),
        "demo": (ExitCode.OK, ExitCode.FAILED),
        "sandbox": (ExitCode.USAGE,),
        "login": (*VERDICTS, *_LOGIN),
        "init": VERDICTS,
        "plan": (ExitCode.OK, ExitCode.USAGE),
        "fleet": (
            *VERDICTS,
            ExitCode.REPORT_NOT_WRITTEN,
            ExitCode.WRONG_WORKSPACE,
            ExitCode.INSTALLS_EXPOSED,
        ),
    }
)


def most_severe(codes: Sequence[ExitCode]) -> ExitCode:
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

    def lines(self) -> tuple[str, ...]:
        """What the CLI prints, one line on stderr each."""
        return (self.message,)

    def scrubbed(self, scrub: Callable[[str], str]) -> Self:
        """The same error with `scrub` applied to its message: for layers that hold secrets to keep out."""
        self.args = (scrub(self.message),)
        return self


class UsageError(ValidatorError):
    """The command line needs fixing (bad options, a pattern that matches no file): exit code 2."""

    exit_code = ExitCode.USAGE


class SeveralErrors(ValidatorError):
    """Errors that happened together (several reports not written, then stdout failing): one line each,
    in order; the run ends with the most severe of their codes."""

    def __init__(self, errors: Sequence[ValidatorError]) -> None:
        if not errors:
            raise ValueError("SeveralErrors needs at least one error")
        self.errors = tuple(errors)
        super().__init__(
            "; ".join(error.message for error in self.errors),
            most_severe([error.exit_code for error in self.errors]),
        )

    def lines(self) -> tuple[str, ...]:
        return tuple(line for error in self.errors for line in error.lines())

    def scrubbed(self, scrub: Callable[[str], str]) -> Self:
        for error in self.errors:
            error.scrubbed(scrub)
        self.args = (scrub(self.message),)
        return self
