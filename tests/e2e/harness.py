"""End-to-end harness: the sandbox served on loopback, the CLI run as a subprocess.

Every CLI run made through `run_cli` is checked for token leaks on the spot: no token the sandbox accepts
may appear in the run's stdout, stderr or in any file it wrote.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import xmlschema
import yaml

from validator.sandbox.app import Sandbox
from validator.sandbox.config import DEFAULT_CONFIG_PATH, SandboxConfig
from validator.sandbox.server import serve
from validator.tokens import MIN_TOKEN_LENGTH

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "connector.yaml"
SCHEMAS = REPO / "tests" / "data" / "schemas"
# Every `validate` run of the end-to-end tests also writes these reports, which are checked against the
# schemas of their formats (the official ones for JUnit and SARIF, ours for JSON) and scanned for tokens.
SIDE_REPORTS = ("junit", "sarif", "github", "markdown", "json")

# Looks like a real Intercom token (base64 of "tok:…"); must never be printed or written anywhere.
CANARY = "dG9rOjAwY2FuYXJ5LTdmM2UtNDFhYS1iZWVmLWQ0NTZlYjAwMDAwMQ=="

ALL_LABELS = [
    "Read and list users and companies",
    "Read one user and one company",
    "Write users and companies",
    "Read conversations",
    "Write conversations",
    "Read admins",
    "Read one admin",
    "Update admins",
    "Read tags",
    "Write tags",
    "Read counts",
    "Write data attributes",
    "Read tickets",
    "Write tickets",
    "Read and List articles",
    "Read and Write Articles",
    "Read admin activity logs",
    "Read events",
    "Write events",
]


def default_config_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["tokens"].append(
        {
            "name": "canary",
            "value": CANARY,
            "workspace": "abc12xyz",
            "admin": "991267459",
            "permissions": "all",
        }
    )
    return data


def with_token(data: dict[str, Any], value: str, labels: list[str] | str, **extra: Any) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    token = {
        "name": value,
        "value": value,
        "workspace": "abc12xyz",
        "admin": "991267459",
        "permissions": labels,
    }
    changed["tokens"].append({**token, **extra})
    return changed


@dataclass
class Served:
    base_url: str
    sandbox: Sandbox

    def paths_sent(self) -> list[str]:
        return [f"{entry.method} {entry.path}" for entry in self.sandbox.log.entries]


@contextmanager
def served(data: Mapping[str, Any] | None = None) -> Iterator[Served]:
    config = SandboxConfig.from_dict(data if data is not None else default_config_data())
    sandbox = Sandbox(config)
    with serve(sandbox) as base_url:
        yield Served(base_url, sandbox)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    reports: dict[str, str] = field(default_factory=dict)  # format → the side report's text


@functools.cache
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / "junit.xsd"))


@functools.cache
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


@functools.cache
def report_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((REPO / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def check_side_reports(reports: Mapping[str, str]) -> None:
    junit_schema().validate(reports["junit"])
    sarif_validator().validate(json.loads(reports["sarif"]))
    report_validator().validate(json.loads(reports["json"]))


# Colour is decided by these: a test that wants them sets them, and a runner's own never reach the CLI.
TERMINAL_VARIABLES = ("NO_COLOR", "FORCE_COLOR")


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("INTERCOM_", "GITHUB_")) and name not in TERMINAL_VARIABLES
    }
    env.update(extra)
    return env


def run_cli(
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    cwd: Path | None = None,
    files: list[Path] | None = None,
    timeout: float = 60,
) -> Run:
    """Run `python -m validator ARGS`; fail if any token from the environment or stdin leaks.

    A `validate` run also writes every side report; JUnit and SARIF are validated against their schemas.
    """
    environment = clean_env(env or {})
    with tempfile.TemporaryDirectory() as scratch:
        checks = args[:1] == ("validate",) and "--help" not in args
        side = {fmt: Path(scratch) / f"report.{fmt}" for fmt in SIDE_REPORTS} if checks else {}
        extra = [option for fmt, path in side.items() for option in ("--report", f"{fmt}={path}")]
        completed = subprocess.run(
            [sys.executable, "-m", "validator", *args, *extra],
            env=environment,
            input=stdin,
            capture_output=True,
            text=True,
            cwd=cwd,
            timeout=timeout,
        )
        reports = {fmt: path.read_text(encoding="utf-8") for fmt, path in side.items() if path.exists()}
    run = Run(completed.returncode, completed.stdout, completed.stderr, reports)
    if (side and completed.returncode not in (2, 7)) or reports:  # usage and baseline errors: no report
        assert reports.keys() == side.keys(), f"missing side reports: {side.keys() - reports.keys()}"
        check_side_reports(reports)
    # Values shorter than a token can be are refused by the tool (and "x" is in any text): not scanned for.
    secrets = {CANARY} | {value for name, value in environment.items() if "TOKEN" in name}
    if stdin:
        secrets.add(stdin.strip())
    secrets = {secret for secret in secrets if len(secret) >= MIN_TOKEN_LENGTH}
    outputs = {"stdout": run.stdout, "stderr": run.stderr, **run.reports}
    for file in files or []:
        if file.exists():
            outputs[str(file)] = file.read_text(encoding="utf-8", errors="replace")
    for secret in secrets:
        for where, text in outputs.items():
            assert secret not in text, f"a token leaked into {where}"
    assert "Traceback" not in run.stderr, run.stderr
    return run


def write_spec(directory: Path, edit: Callable[[str], str] = lambda text: text, name: str = "c.yaml") -> Path:
    path = directory / name
    path.write_text(edit(EXAMPLE.read_text(encoding="utf-8")), encoding="utf-8")
    return path
