"""The command line: the Typer app, its commands, and `main`, the one place that turns an error into one
line on stderr and an exit code.

The commands live in `check` (validate, lint, plan, schema), `auth` (login, init) and `sandbox` (demo,
sandbox); each only parses options and calls the core, and raises `ValidatorError`s rather than printing
them. Heavy modules are imported inside the command that needs them: start-up time is what users feel in
pre-commit hooks and CI steps.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any, NoReturn

import typer

from validator import __version__
from validator.cli import auth, check, fleet, sandbox
from validator.cli.options import exit_codes_help
from validator.errors import ExitCode, ValidatorError

app = typer.Typer(
    name="connector-validator",
    help="Check that an Intercom token grants what a connector.yaml declares.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion and --show-completion, for bash, zsh, fish, PowerShell
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Every command, in the order `--help` lists them, with the note its exit-code epilog adds.
COMMANDS: tuple[tuple[Callable[..., Any], str], ...] = (
    (check.lint, ""),
    (check.schema, ""),
    (check.validate, check.VALIDATE_NOTE),
    (fleet.fleet, fleet.FLEET_NOTE),
    (sandbox.demo, ""),
    (sandbox.sandbox, ""),
    (auth.login, auth.LOGIN_NOTE),
    (auth.init, ""),
    (check.plan, ""),
)
for _command, _note in COMMANDS:
    # The summary in `--help`'s command list is the docstring's first sentence, whole: Click would cut it
    # at 45 characters.
    _summary = (_command.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    app.command(epilog=exit_codes_help(_command.__name__, _note), short_help=_summary)(_command)


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"connector-validator {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", callback=version_callback, is_eager=True, help="Print the version and exit."
        ),
    ] = None,
) -> None:
    """Check that an Intercom token grants what a connector.yaml declares."""


_signals_received: list[int] = []


def _on_signal(signum: int, frame: object) -> None:
    """SIGINT and SIGTERM stop the run the way Ctrl-C does, so that `finally` blocks run: a report being
    written is then left as it was before (its temporary file removed). A second signal while stopping is
    ignored, so that this clean-up cannot itself be cut short."""
    if _signals_received:
        return
    _signals_received.append(signum)
    _quiet_while_stopping()
    _stop_for_sure(signum)
    raise KeyboardInterrupt


# How long the clean-up may take once a signal arrived. The interrupt is raised wherever the main thread is;
# should a library swallow it there, the run must still end instead of ignoring every further signal.
STOP_GRACE_SECONDS = 5.0


def _stop_for_sure(signum: int) -> None:
    """End the process `STOP_GRACE_SECONDS` after the signal if the clean-up has not ended it by then.

    Reports need no clean-up to stay whole (each is renamed into place complete, or not at all); at worst
    a temporary file of one is left beside it."""
    import signal
    import threading

    code = ExitCode.TERMINATED if signum == signal.SIGTERM else ExitCode.INTERRUPTED

    def stop() -> None:
        _say(f"{'terminated' if code is ExitCode.TERMINATED else 'interrupted'} (clean-up took too long)")
        os._exit(code)

    timer = threading.Timer(STOP_GRACE_SECONDS, stop)
    timer.daemon = True
    timer.start()


def _quiet_while_stopping() -> None:
    """The interrupt may land anywhere, inside an asyncio task too: asyncio would then log the task's
    KeyboardInterrupt with its traceback while shutting down, and Python would report exceptions it must
    ignore. Stopping is said in one line by `_stopped_by_signal`; nothing else is printed."""
    import logging

    logging.getLogger("asyncio").disabled = True
    sys.unraisablehook = lambda unraisable: None
    sys.excepthook = lambda kind, value, traceback: None


def _stopped_by_signal() -> NoReturn:
    import signal

    terminated = _signals_received[:1] == [signal.SIGTERM]
    _say("terminated" if terminated else "interrupted")
    sys.exit(ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED)


def _say(message: str) -> None:
    try:
        sys.stderr.write(f"connector-validator: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass  # stderr is unusable: nobody left to tell


def _guard_standard_streams() -> None:
    """Make stdout failures distinct errors, and keep descriptors 1 and 2 taken.

    A closed descriptor 1 would be reused by the next file opened (a report), so that anything printed
    would land in it: it is pointed at /dev/null instead, and printing says that stdout is closed.
    """
    from validator.files import GuardedStdout, QuietStderr, silence_descriptor

    for descriptor, name in ((1, "stdout"), (2, "stderr")):
        stream = getattr(sys, name)
        try:
            os.fstat(descriptor)
            usable = stream is not None
        except OSError:
            usable = False
        if not usable:
            silence_descriptor(descriptor)
            setattr(sys, name, None)
        elif isinstance(stream, io.TextIOWrapper):
            # A terminal or PYTHONIOENCODING that cannot encode "→" or a workspace name must not cost the
            # report: such characters print as "?" instead of ending the run with UnicodeEncodeError.
            stream.reconfigure(errors="replace")
    sys.stdout = GuardedStdout(sys.stdout)
    sys.stderr = QuietStderr(sys.stderr)


def main() -> None:
    """Console-script entry point, and the one place errors become output: a `ValidatorError` is one line
    per message on stderr and its exit code; anything else is a bug, said in one line, exit 70. No traceback
    ever reaches the user."""
    import signal

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _on_signal)
    _guard_standard_streams()

    try:
        # Named, not taken from argv: `python -m validator` then prints the same usage and installs the
        # same shell completion as the console script.
        app(prog_name="connector-validator")
    except KeyboardInterrupt:
        _stopped_by_signal()
    except SystemExit:
        if _signals_received:  # the CLI framework turned the KeyboardInterrupt into an exit
            _stopped_by_signal()
        raise
    except ValidatorError as error:
        if _signals_received:
            _stopped_by_signal()
        for line in error.lines():
            _say(f"error: {line}")
        sys.exit(error.exit_code)
    except Exception as error:  # a bug: say so in one line, without details that could hold secrets
        if _signals_received:
            _stopped_by_signal()
        if os.environ.get("CONNECTOR_VALIDATOR_DEBUG"):
            raise
        _say(
            f"internal error ({type(error).__name__}); "
            "set CONNECTOR_VALIDATOR_DEBUG=1 for details and report it"
        )
        sys.exit(ExitCode.INTERNAL)
