"""`fleet` in process: reading installs, judging each check, the outputs, against the in-process sandbox."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from validator.errors import ExitCode, UsageError
from validator.files import StreamedReplacement, TargetError
from validator.fleet.installs import (
    MAX_LINE_BYTES,
    Install,
    InstallsExposed,
    Malformed,
    fingerprint,
    open_installs,
    parse_line,
    read_lines,
)
from validator.fleet.judge import Action
from validator.fleet.outputs import FleetFormat, csv_row
from validator.fleet.run import FleetRequest, run_fleet
from validator.model import Outcome
from validator.sandbox import Sandbox, SandboxTransport

REPO = Path(__file__).resolve().parents[2]
TOKEN = "sandbox-full-access-0001"
SECRET = "dG9rOjAwc2VjcmV0LTdmM2UtNDFhYS1iZWVmLWQ0NTZlYjAwMDAwMQ=="


def parsed(text: str) -> Install | Malformed | None:
    return parse_line(7, text.encode())


def test_a_well_formed_line_is_an_install() -> None:
    install = parsed(
        json.dumps({"workspace_id": "abc12xyz", "token": TOKEN, "region": "eu", "label": "Acme"})
    )
    assert isinstance(install, Install)
    assert (install.line, install.workspace_id, install.region, install.label) == (
        7,
        "abc12xyz",
        "eu",
        "Acme",
    )
    assert install.token_fingerprint == fingerprint(TOKEN) and len(fingerprint(TOKEN)) == 8
    assert TOKEN not in repr(install)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (f"{{'workspace_id': 'abc12xyz', 'token': '{SECRET}'}}", "not JSON (at column 2)"),
        (f'["abc12xyz", "{SECRET}"]', "not a JSON object"),
        (f'{{"token": "{SECRET}"}}', "missing workspace_id"),
        ('{"workspace_id": "abc12xyz"}', "missing token"),
        (f'{{"workspace_id": 12, "token": "{SECRET}"}}', "workspace_id is not a non-empty string"),
        (f'{{"workspace_id": "abc 12", "token": "{SECRET}"}}', "workspace_id has spaces"),
        ('{"workspace_id": "abc12xyz", "token": 12}', "token is not a string"),
        (
            f'{{"workspace_id": "abc12xyz", "token": "Bearer {SECRET}"}}',
            "the token is not usable: it starts with 'Bearer '",
        ),
        (
            '{"workspace_id": "abc12xyz", "token": "short"}',
            "the token is not usable: it is 5 characters long",
        ),
        (
            f'{{"workspace_id": "abc12xyz", "token": "{SECRET}", "region": "mars"}}',
            "region is not one of us, eu, au",
        ),
        (f'{{"workspace_id": "abc12xyz", "token": "{SECRET}", "label": 3}}', "label is not a string"),
        (f'{{"workspace_id": "abc12xyz", "token": "{SECRET}", "{SECRET}": 1}}', "1 unknown key(s)"),
        (f'{{"workspace_id": "a", "token": "{SECRET}", "token": "{SECRET}"}}', "a key appears twice"),
    ],
)
def test_a_malformed_line_says_what_is_wrong_without_repeating_it(text: str, problem: str) -> None:
    result = parsed(text)
    assert isinstance(result, Malformed)
    assert result.line == 7
    assert result.problem.startswith(problem), result.problem
    assert SECRET[:12] not in result.problem and "abc12xyz" not in result.problem


def test_bytes_that_are_not_utf8_and_blank_lines() -> None:
    assert parse_line(1, b"\xff\xfe{}\n") == Malformed(1, "not UTF-8 text")
    assert parse_line(2, b"   \n") is None


def test_a_line_longer_than_the_cap_is_skipped_whole_and_the_next_one_read() -> None:
    stream = io.BytesIO(b"x" * (3 * MAX_LINE_BYTES) + b"\n" + b'{"a": 1}\n')
    lines = list(read_lines(stream))
    assert [(number, raw) for number, raw, _ in lines] == [(1, None), (2, b'{"a": 1}\n')]
    assert sum(consumed for _, _, consumed in lines) == 3 * MAX_LINE_BYTES + 1 + 9
    assert isinstance(parse_line(1, None), Malformed)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_an_installs_file_open_to_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "installs.jsonl"
    path.write_text("{}\n", encoding="utf-8")
    os.chmod(path, mode)
    with pytest.raises(InstallsExposed, match=r"chmod 600") as raised:
        open_installs(str(path), io.BytesIO())
    assert raised.value.exit_code is ExitCode.INSTALLS_EXPOSED
    os.chmod(path, 0o600)
    stream, size = open_installs(str(path), io.BytesIO())
    with stream:
        assert stream.read() == b"{}\n" and size == 3


def test_a_missing_installs_file_or_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read --installs"):
        open_installs(str(tmp_path / "absent.jsonl"), io.BytesIO())
    with pytest.raises(UsageError, match="it is a directory"):
        open_installs(str(tmp_path), io.BytesIO())


def test_a_streamed_replacement_leaves_the_target_alone_until_commit(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("previous\n", encoding="utf-8")
    streamed = StreamedReplacement(target)
    for number in range(20_000):
        streamed.write(f"row {number}\n")
    assert target.read_text(encoding="utf-8") == "previous\n"
    streamed.commit()
    assert target.read_text(encoding="utf-8").splitlines()[-1] == "row 19999"
    assert [path.name for path in tmp_path.iterdir()] == ["report.md"]
    discarded = StreamedReplacement(target)
    discarded.write("never\n")
    discarded.discard()
    assert target.read_text(encoding="utf-8").endswith("row 19999\n")
    assert [path.name for path in tmp_path.iterdir()] == ["report.md"]
    (tmp_path / "folder").mkdir()
    with pytest.raises(TargetError):
        StreamedReplacement(tmp_path / "folder")


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_quoted() -> None:
    from validator.fleet.judge import InstallResult

    result = InstallResult(
        line=1,
        label='=HYPERLINK("x")',
        workspace_id="w",
        region="us",
        token_fingerprint="0123abcd",
        outcome=Outcome.PASS,
        action=Action.NONE,
        exit_code=ExitCode.OK,
        reason="fine, really",
    )
    assert csv_row(result).startswith('1,"\'=HYPERLINK(""x"")",w,us,0123abcd,pass,none,,"fine, really",')


def _fleet(
    lines: str,
    sandbox: Sandbox,
    tmp_path: Path,
    *reports: str,
    fmt: FleetFormat = FleetFormat.JSONL,
    connector: Path = REPO / "connector.yaml",
) -> tuple[ExitCode, list[dict[str, object]]]:
    out = io.StringIO()
    code = run_fleet(
        FleetRequest(connector, "-", fmt, reports=reports, api_url="http://127.0.0.1:9", retry_budget=0),
        stdin=io.BytesIO(lines.encode()),
        stdout=out,
        stderr=io.StringIO(),
        transport_factory=lambda: SandboxTransport(sandbox),
    )
    return code, [
        json.loads(text) for text in out.getvalue().splitlines()
    ] if fmt is FleetFormat.JSONL else []


def test_a_label_holding_the_token_is_scrubbed_from_every_output(tmp_path: Path) -> None:
    line = json.dumps({"workspace_id": "abc12xyz", "token": TOKEN, "label": f"copy of {TOKEN}"}) + "\n"
    csv = tmp_path / "f.csv"
    code, objects = _fleet(line, Sandbox(), tmp_path, f"csv={csv}")
    assert code is ExitCode.OK
    assert TOKEN not in json.dumps(objects) and TOKEN not in csv.read_text(encoding="utf-8")
    assert "[REDACTED]" in str(objects[0]["label"])


def test_a_region_the_line_gives_wrongly_is_fix_input(tmp_path: Path) -> None:
    line = json.dumps({"workspace_id": "abc12xyz", "token": TOKEN, "region": "eu"}) + "\n"
    code, objects = _fleet(line, Sandbox(), tmp_path)
    assert code is ExitCode.FAILED
    assert (objects[0]["outcome"], objects[0]["action"]) == ("fail", "fix_input")
    assert "region" in str(objects[0]["reason"])


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_line_is_shown_on_a_terminal_only_and_cleared_at_the_end(tmp_path: Path) -> None:
    line = json.dumps({"workspace_id": "abc12xyz", "token": TOKEN}) + "\n"
    for stderr, shown in ((Terminal(), True), (io.StringIO(), False)):
        run_fleet(
            FleetRequest(REPO / "connector.yaml", "-", FleetFormat.JSONL, api_url="http://127.0.0.1:9"),
            stdin=io.BytesIO(line.encode() * 3),
            stdout=io.StringIO(),
            stderr=stderr,
            transport_factory=lambda: SandboxTransport(Sandbox()),
        )
        text = stderr.getvalue()
        assert ("installs decided" in text) is shown
        assert text.endswith("\r\x1b[2K") is shown


def test_a_data_type_outside_the_workspaces_plan_fails_with_no_action_and_is_not_missing(
    tmp_path: Path,
) -> None:
    import dataclasses

    from validator.model import DataType
    from validator.sandbox.config import default_config

    config = default_config()
    acme = dataclasses.replace(config.workspaces[0], plan_restricted=frozenset({DataType.CONVERSATIONS}))
    sandbox = Sandbox(dataclasses.replace(config, workspaces=(acme, *config.workspaces[1:])))
    code, objects = _fleet(json.dumps({"workspace_id": "abc12xyz", "token": TOKEN}) + "\n", sandbox, tmp_path)
    assert code is ExitCode.FAILED
    install, summary = objects
    assert (install["outcome"], install["action"], install["missing"]) == ("fail", "none", [])
    assert "plan does not include conversations:read" in str(install["reason"])
    assert summary["summary"]["missing"] == []  # type: ignore[index]


def test_a_token_that_may_not_read_me_never_passes_its_workspace_being_unverified(tmp_path: Path) -> None:
    import dataclasses

    from validator.sandbox.config import default_config
    from validator.sandbox.permissions import ALL_LABELS, Label

    config = default_config()
    without = dataclasses.replace(
        config.tokens[0], value="sandbox-no-read-admins-0099", permissions=ALL_LABELS - {Label.READ_ADMINS}
    )
    sandbox = Sandbox(
        dataclasses.replace(config, tokens=(*config.tokens, without), me_requires_read_admins=True)
    )
    line = json.dumps({"workspace_id": "abc12xyz", "token": "sandbox-no-read-admins-0099"}) + "\n"
    code, objects = _fleet(line, sandbox, tmp_path)
    install = objects[0]
    assert code is ExitCode.FAILED
    assert (install["outcome"], install["action"]) == ("fail", "reauthorize")
    assert "Read admins" in install["missing"]  # type: ignore[operator]
    assert "cannot be verified" in str(install["reason"])


POLICED = """\
version: 1
platform: intercom
name: policed
workspace: {id: abc12xyz, region: us}
auth: {mode: oauth, token_env: INTERCOM_ACCESS_TOKEN}
permissions:
  people: [read]
policy:
  forbidden:
    conversations: [write]
"""


def test_the_connectors_policy_applies_to_every_install(tmp_path: Path) -> None:
    """A forbidden permission the install's token has fails that install (untick, re-authorize); one the
    token is proven not to have passes, and is never reported as a label to tick."""
    import dataclasses

    from validator.sandbox.config import default_config
    from validator.sandbox.permissions import ALL_LABELS, Label

    connector = tmp_path / "connector.yaml"
    connector.write_text(POLICED, encoding="utf-8")
    config = default_config()
    without = dataclasses.replace(
        config.tokens[0],
        value="sandbox-no-write-conv-0042",
        permissions=ALL_LABELS - {Label.WRITE_CONVERSATIONS},
    )
    sandbox = Sandbox(dataclasses.replace(config, tokens=(*config.tokens, without)))
    lines = "".join(
        json.dumps({"workspace_id": "abc12xyz", "token": token}) + "\n"
        for token in (TOKEN, "sandbox-no-write-conv-0042")
    )
    code, objects = _fleet(lines, sandbox, tmp_path, connector=connector)
    granted, absent, summary = sorted(objects[:2], key=lambda item: int(str(item["line"]))) + objects[2:]
    assert code is ExitCode.FAILED
    assert (granted["outcome"], granted["action"], granted["missing"]) == ("fail", "reauthorize", [])
    assert "conversations:write (forbidden)" in str(granted["reason"])
    assert '"Write conversations"' in str(granted["reason"])
    assert (absent["outcome"], absent["action"], absent["missing"]) == ("pass", "none", [])
    assert summary["summary"]["missing"] == []  # type: ignore[index]
