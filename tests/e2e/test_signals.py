"""A signal always ends the run, even where a library swallows the interrupt it raises."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from validator.errors import ExitCode

pytestmark = pytest.mark.e2e

SWALLOWS_THE_INTERRUPT = textwrap.dedent(
    """
    import signal, time
    import validator.cli as cli

    cli.STOP_GRACE_SECONDS = 0.5
    signal.signal(signal.SIGTERM, cli._on_signal)
    signal.signal(signal.SIGINT, cli._on_signal)
    # Only the first signal raises KeyboardInterrupt (a second one is ignored while stopping), so one `try`
    # around everything from "ready" on swallows it wherever it lands, as a careless library would.
    try:
        print("ready", flush=True)
        time.sleep(20)
    except KeyboardInterrupt:
        pass
    time.sleep(20)
    print("still running", flush=True)
    """
)


@pytest.mark.parametrize(
    ("signum", "code", "said"),
    [
        (signal.SIGTERM, ExitCode.TERMINATED, "terminated"),
        (signal.SIGINT, ExitCode.INTERRUPTED, "interrupted"),
    ],
    ids=["SIGTERM", "SIGINT"],
)
def test_a_swallowed_interrupt_still_ends_the_run_after_the_grace_period(
    signum: int, code: ExitCode, said: str
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", SWALLOWS_THE_INTERRUPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        child.send_signal(signum)
        stdout, stderr = child.communicate(timeout=10)
    finally:
        child.kill()
    assert child.returncode == code
    assert "still running" not in stdout
    assert stderr == f"connector-validator: {said} (clean-up took too long)\n"
