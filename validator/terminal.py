"""Terminal conventions: how much a command says (`-q`, `-v`), and whether it uses colour (`--color`,
`NO_COLOR`, `FORCE_COLOR`, `TERM=dumb`).

Colour is decided once, for standard output, in this order: the flag (`always`, `never`) beats the
environment; with `auto`, a non-empty `NO_COLOR` turns it off (https://no-color.org), else a non-empty
`FORCE_COLOR` turns it on even when stdout is not a terminal (https://force-color.org), else `TERM=dumb`
turns it off, else it is on exactly when stdout is a terminal. The self-overwriting progress line needs a
terminal that understands it: never with `TERM=dumb`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TextIO

# The variables that decide colour and progress: a run given an environment of its own (the demo's) still
# takes these from the process's.
TERMINAL_VARIABLES = ("NO_COLOR", "FORCE_COLOR", "TERM")


def terminal_environ(environ: Mapping[str, str]) -> dict[str, str]:
    return {name: environ[name] for name in TERMINAL_VARIABLES if name in environ}


class ColorChoice(StrEnum):
    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


class Verbosity(StrEnum):
    QUIET = "quiet"  # the result line and errors only
    NORMAL = "normal"
    VERBOSE = "verbose"  # and every request's outcome on stderr


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, OSError, ValueError):  # closed, or not a real stream
        return False


def is_dumb(environ: Mapping[str, str]) -> bool:
    """`TERM=dumb`: a terminal without cursor movement or colour (Emacs shells, some CI consoles)."""
    return environ.get("TERM", "") == "dumb"


def wants_color(choice: ColorChoice, stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Whether text written to `stream` gets colour (see the module's docstring for the order)."""
    if choice is not ColorChoice.AUTO:
        return choice is ColorChoice.ALWAYS
    if environ.get("NO_COLOR", ""):
        return False
    if environ.get("FORCE_COLOR", ""):
        return True
    return not is_dumb(environ) and is_terminal(stream)


def shows_progress(verbosity: Verbosity, stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Whether the self-overwriting progress line goes to `stream` (stderr): a real terminal only, never
    with `-q` (silence) or `-v` (its lines would be overwritten)."""
    return verbosity is Verbosity.NORMAL and not is_dumb(environ) and is_terminal(stream)


def one_line(text: str) -> str:
    """`text` with every character that is not printable shown escaped (`\\n`, `\\x1b`), so that a status
    line on stderr stays one line and cannot move the cursor or start a CI workflow command."""
    return "".join(character if character.isprintable() else repr(character)[1:-1] for character in text)


def still_waiting(host: str, after: float, timeout: float) -> str:
    """The line said once per host when an attempt has had no answer for `after` seconds."""
    return f"still waiting for {host} (no answer for {after:g} s; --timeout {timeout:g})"
