"""`connector-validator demo`: the real `validate`, over real HTTP, against the built-in sandbox.

The sandbox answers on an ephemeral loopback port with the workspace the example connector.yaml declares,
and a token that lacks exactly one permission the example needs ("Write tags"), so the demo shows both a
pass and the remediation a missing permission gets.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

from validator.errors import ExitCode
from validator.model import DEFAULT_TOKEN_ENV
from validator.run import ValidateRequest, run_validate
from validator.terminal import terminal_environ

DEMO_TOKEN = "sandbox-no-write-tags-0002"  # a made-up token the sandbox's default configuration accepts
DEMO_TOKEN_ENV = DEFAULT_TOKEN_ENV
LOCAL_EXAMPLE = Path("connector.yaml")  # in a checkout of this repository: the example itself
# What the example is called outside a checkout: a short name, not the path into site-packages.
EXAMPLE_NAME = "example/connector.yaml"


def example_path() -> Path:
    """The example connector.yaml: packaged in the wheel, or at the top of a source checkout."""
    here = Path(__file__).parent
    for candidate in (here / "_example" / "connector.yaml", here.parent / "connector.yaml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("the example connector.yaml is not installed")


def example_to_validate() -> tuple[Path, str, bool]:
    """The file the demo validates, the name reports give it, and whether it is `./connector.yaml`.

    In a checkout (the current directory holds the example, byte for byte) that is `./connector.yaml`,
    so the demo shows the command a user would type. Elsewhere it is the installed example, called by a
    short name instead of its path into site-packages.
    """
    example = example_path()
    try:
        local = LOCAL_EXAMPLE.is_file() and LOCAL_EXAMPLE.read_bytes() == example.read_bytes()
    except OSError:
        local = False
    if local:
        return LOCAL_EXAMPLE, str(LOCAL_EXAMPLE), True
    return example, EXAMPLE_NAME, False


def run_demo(stdout: TextIO | None = None, stderr: TextIO | None = None) -> ExitCode:
    """Run the demo; 0 when the check behaved as designed (exactly the withheld permission missing)."""
    from validator.sandbox.app import Sandbox
    from validator.sandbox.config import default_config
    from validator.sandbox.server import serve

    out = stdout or sys.stdout
    example, name, local = example_to_validate()
    sandbox = Sandbox(default_config())
    with serve(sandbox) as base_url:
        out.write(f"Intercom sandbox listening on {base_url} (loopback only, made-up data).\n")
        lacking = 'with a sandbox token that lacks the "Write tags" permission'
        if local:
            out.write(
                f"Validating ./{name} {lacking}:\n\n"
                f"$ INTERCOM_API_URL={base_url} {DEMO_TOKEN_ENV}=*** connector-validator validate {name}\n\n"
            )
        else:
            out.write(
                "Validating the example connector.yaml that comes with connector-validator\n"
                f"(shown as {name}) {lacking}:\n\n"
            )
        code = run_validate(
            ValidateRequest(paths=[example], api_url=base_url, names={example: name}),
            environ={**terminal_environ(os.environ), DEMO_TOKEN_ENV: DEMO_TOKEN},  # colour as validate's
            stdout=out,
            stderr=stderr or sys.stderr,
        )
    sent = len(sandbox.log.entries)
    mutations = len(sandbox.log.mutations)
    if code != ExitCode.FAILED or mutations:
        out.write(
            f"\nThe demo did not go as designed: `validate` exited {code}, and the sandbox recorded"
            f" {mutations} request(s) that would have changed data. Please report this.\n"
        )
        return ExitCode.FAILED
    out.write(
        "\nWhat just happened:\n"
        "  - GET /me proved the token valid and pointing at the declared workspace; then"
        f" {sent - 1} probes ran\n"
        "    concurrently, one or two per declared permission. Reads are proven by a 200; write access is\n"
        "    inferred from a 400/404 to a request that cannot succeed, so no data was changed\n"
        f"    (requests the sandbox recorded as changing data: {mutations}).\n"
        f"  - `validate` exited {code}: a declared permission is missing, and the report says which\n"
        "    Developer Hub permission to tick.\n"
        "\nRun it for real:\n"
        "  export INTERCOM_ACCESS_TOKEN=...   # from a CI secret; never a command-line value\n"
        "  connector-validator validate connector.yaml --report junit=reports/junit.xml\n"
    )
    return ExitCode.OK


__all__ = ["DEMO_TOKEN", "example_path", "run_demo"]
