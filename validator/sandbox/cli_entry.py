"""`connector-validator sandbox`: serve the sandbox on loopback for people trying the validator.

The Typer command only parses options and calls `run`; config errors surface as `SandboxConfigError`
with a one-line message for the CLI to print.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TextIO

from validator.sandbox.app import Sandbox
from validator.sandbox.config import DEFAULT_CONFIG_PATH, load_config
from validator.sandbox.generate import installs
from validator.sandbox.permissions import ALL_LABELS
from validator.sandbox.server import serve


def print_installs(config_path: Path | None, out: TextIO) -> None:
    """Every active token of the config as one `fleet --installs` line: sandbox-only values, printed on
    purpose (as `run` prints them), so that tests and benchmarks can feed `fleet` the world they serve."""
    config = load_config(config_path or DEFAULT_CONFIG_PATH)
    for install in installs(config):
        out.write(json.dumps(install) + "\n")
    out.flush()


def run(config_path: Path | None, port: int, out: TextIO, *, stop: threading.Event | None = None) -> None:
    """Serve the sandbox on 127.0.0.1:`port` (0: ephemeral) until Ctrl-C, or until `stop` is set.

    Prints the base URL, every accepted token with its workspace and granted permissions, and an example
    command line. Tokens are sandbox-only values from the config file, so printing them is the point.
    """
    config = load_config(config_path or DEFAULT_CONFIG_PATH)
    sandbox = Sandbox(config)
    with serve(sandbox, port=port) as base_url:
        print(f"Intercom sandbox listening on {base_url}", file=out)
        print(f"config: {config_path or DEFAULT_CONFIG_PATH}", file=out)
        print("accepted tokens:", file=out)
        for token in sandbox.accepted_tokens():
            workspace = config.workspace(token.workspace)
            where = (
                f"{token.workspace} ({workspace.name}, {workspace.region})" if workspace else token.workspace
            )
            labels = (
                "all permissions" if token.permissions == ALL_LABELS else ", ".join(sorted(token.permissions))
            )
            print(f"  {token.value}", file=out)
            print(f"      workspace {where}; admin {token.admin}", file=out)
            print(f"      grants: {labels or 'nothing'}", file=out)
        example = next(iter(sandbox.accepted_tokens()), None)
        if example is not None:
            print("\ntry:", file=out)
            print(
                f"  INTERCOM_API_URL={base_url} INTERCOM_ACCESS_TOKEN={example.value} "
                "connector-validator validate connector.yaml",
                file=out,
            )
        print("\nPress Ctrl-C to stop.", file=out, flush=True)
        try:
            (stop or threading.Event()).wait()
        except KeyboardInterrupt:
            print("\nsandbox stopped", file=out)
