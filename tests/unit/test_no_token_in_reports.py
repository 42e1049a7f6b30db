"""The token never reaches a report, even before the output scrubber (the last line of defence) runs."""

from __future__ import annotations

import asyncio

import pytest
import yaml

from validator.formats import Format, render
from validator.intercom import RetryPolicy
from validator.model import Access, Auth, AuthMode, ConnectorSpec, DataType, Permission, Workspace
from validator.report import Report, Verdict
from validator.sandbox.app import Sandbox
from validator.sandbox.config import DEFAULT_CONFIG_PATH, SandboxConfig
from validator.sandbox.transport import SandboxTransport
from validator.validate import Ready, RunOptions, run_checks

CANARY = "dG9rOjAwY2FuYXJ5LXVuaXQtdGVzdC0wMDAwMDAwMDAwMDE="


def pipeline_report(sandbox: Sandbox) -> Report:
    spec = ConnectorSpec(
        path="connector.yaml",
        name="canary",
        workspace=Workspace("abc12xyz", "Acme Support"),
        auth=Auth(AuthMode.OAUTH),
        permissions=tuple(Permission(data_type, access) for data_type in DataType for access in Access)[:13],
    )
    options = RunOptions(
        api_url="http://127.0.0.1",
        retry=RetryPolicy(max_total_wait=0.0),
        transport_factory=lambda: SandboxTransport(sandbox),
    )
    return asyncio.run(run_checks([Ready(spec, CANARY, "INTERCOM_ACCESS_TOKEN")], options))


@pytest.fixture(scope="module")
def canary_sandbox() -> Sandbox:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["tokens"].append(
        {"value": CANARY, "workspace": "abc12xyz", "permissions": ["Read tags", "Read conversations"]}
    )
    data["faults"] = [{"route": "GET /conversations", "kind": "status", "status": 500}]
    return Sandbox(SandboxConfig.from_dict(data))


@pytest.mark.parametrize("fmt", list(Format))
def test_no_format_of_a_real_report_holds_the_token(canary_sandbox: Sandbox, fmt: Format) -> None:
    report = pipeline_report(canary_sandbox)
    verdicts = {result.verdict for result in report.connectors[0].permissions}
    assert {Verdict.GRANTED, Verdict.MISSING, Verdict.INCONCLUSIVE} <= verdicts  # every kind of line
    assert CANARY not in render(fmt, report)
    assert CANARY not in repr(report)


def test_the_sandbox_request_log_masks_the_token(canary_sandbox: Sandbox) -> None:
    pipeline_report(canary_sandbox)
    entries = canary_sandbox.log.entries
    assert entries and all(CANARY not in repr(entry) for entry in entries)
