"""Remediation depends on how the connector authenticates: regenerate an access token, or re-authorize OAuth.

The token is the sandbox's demo token, which lacks exactly "Write tags"; the connector declares tags:write.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from validator.errors import ExitCode
from validator.formats import Format
from validator.run import ValidateRequest, run_validate
from validator.sandbox import Sandbox, SandboxTransport

TOKEN_WITHOUT_WRITE_TAGS = "sandbox-no-write-tags-0002"
ACCESS_TOKEN_ADVICE = "regenerate the access token"
OAUTH_ADVICE = "authorize the app again"

SPEC = """\
version: 1
name: tagger
platform: intercom
workspace: {{id: abc12xyz}}
auth: {{mode: {mode}}}
permissions:
  tags: [read, write]
"""


def validate(tmp_path: Path, sandbox: Sandbox, mode: str, output_format: str) -> str:
    path = tmp_path / "connector.yaml"
    path.write_text(SPEC.format(mode=mode), encoding="utf-8")
    stdout = io.StringIO()
    code = run_validate(
        ValidateRequest(paths=[path], output_format=Format(output_format)),
        environ={"INTERCOM_ACCESS_TOKEN": TOKEN_WITHOUT_WRITE_TAGS},
        stdout=stdout,
        stderr=io.StringIO(),
        transport_factory=lambda: SandboxTransport(sandbox),
    )
    assert code == ExitCode.FAILED
    return stdout.getvalue()


@pytest.mark.parametrize(
    ("mode", "advice", "not_advice"),
    [("access_token", ACCESS_TOKEN_ADVICE, OAUTH_ADVICE), ("oauth", OAUTH_ADVICE, ACCESS_TOKEN_ADVICE)],
)
def test_the_text_report_says_what_to_do_after_ticking_the_permission_for_the_auth_mode(
    tmp_path: Path, sandbox: Sandbox, mode: str, advice: str, not_advice: str
) -> None:
    text = validate(tmp_path, sandbox, mode, "text")

    assert '[ ] "Write tags"' in text
    assert advice in " ".join(text.split())
    assert not_advice not in " ".join(text.split())


@pytest.mark.parametrize(
    ("mode", "advice", "not_advice"),
    [("access_token", ACCESS_TOKEN_ADVICE, OAUTH_ADVICE), ("oauth", OAUTH_ADVICE, ACCESS_TOKEN_ADVICE)],
)
def test_the_json_report_gives_the_missing_permission_the_remediation_of_the_auth_mode(
    tmp_path: Path, sandbox: Sandbox, mode: str, advice: str, not_advice: str
) -> None:
    document = json.loads(validate(tmp_path, sandbox, mode, "json"))

    (connector,) = document["connectors"]
    assert connector["auth_mode"] == mode
    by_permission = {(p["data_type"], p["access"]): p for p in connector["permissions"]}
    missing = by_permission[("tags", "write")]
    assert missing["status"] == "missing"
    assert advice in missing["remediation"] and not_advice not in missing["remediation"]
    assert by_permission[("tags", "read")]["remediation"] is None


def _result_messages(output_format: str, text: str) -> str:
    """What a format says about the findings themselves (SARIF's rule help covers both modes by design)."""
    if output_format == "sarif":
        return " ".join(result["message"]["text"] for result in json.loads(text)["runs"][0]["results"])
    return text


@pytest.mark.parametrize("output_format", ["junit", "sarif", "github", "markdown"])
@pytest.mark.parametrize(
    ("mode", "advice", "not_advice"),
    [("access_token", ACCESS_TOKEN_ADVICE, OAUTH_ADVICE), ("oauth", OAUTH_ADVICE, ACCESS_TOKEN_ADVICE)],
)
def test_every_ci_format_gives_the_remediation_of_the_auth_mode(
    tmp_path: Path, sandbox: Sandbox, output_format: str, mode: str, advice: str, not_advice: str
) -> None:
    said = " ".join(_result_messages(output_format, validate(tmp_path, sandbox, mode, output_format)).split())
    said = said.replace("%0A", " ")  # GitHub escapes newlines in annotations
    assert "Write tags" in said
    assert advice in said and not_advice not in said
