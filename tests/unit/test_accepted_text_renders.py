"""Any text `lint` accepts as a name renders in every format of `validate` and of `lint`, as UTF-8.

A name with a lone surrogate (`"conn\\ud800x"`) once passed lint and then crashed every report writer. The
property: whatever a connector.yaml holds, either lint refuses it (and its problems render everywhere) or
every report built from it renders and encodes.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validator.formats import Format, Subject, formats_for, render, render_lint
from validator.lint import FileResult, LintResult
from validator.model import (
    Access,
    AuthMode,
    DataType,
    Permission,
    Position,
    Region,
    Strength,
    TokenStatus,
    Verdict,
    WorkspaceStatus,
)
from validator.report import (
    ConnectorResult,
    Evidence,
    PermissionResult,
    Report,
    TokenCheck,
    WorkspaceCheck,
    WorkspaceIdentity,
)
from validator.spec import SpecError, parse_spec

# Every code point, surrogates included: json.dumps writes them as `\ud800`, which YAML's double-quoted
# scalars read back as the lone surrogate.
TRAPS = st.sampled_from(
    [
        "\x00",
        "\x1b",
        "\n",
        "\x7f",
        "\x85",
        "\x9b",
        "\u200b",
        "\u202e",
        "\u2067",
        "\ufeff",
        "\U0001f600",
        "<",
        "&",
    ]
)
ANY_TEXT = st.text(
    st.one_of(
        st.characters(min_codepoint=0, max_codepoint=0x10FFFF),
        st.integers(0xD800, 0xDFFF).map(chr),  # lone surrogates, which `characters()` rarely draws
        TRAPS,
    ),
    min_size=1,
    max_size=30,
)


def spec_text(name: str, workspace_name: str, key: str | None = None) -> bytes:
    quoted = json.dumps
    extra = f", {quoted(key)}: [read]" if key is not None else ""
    return (
        f"version: 1\nname: {quoted(name)}\nplatform: intercom\n"
        f"workspace: {{id: abc12xyz, name: {quoted(workspace_name)}}}\n"
        f"auth: {{mode: access_token}}\npermissions: {{people: [read]{extra}}}\n"
    ).encode("utf-8", "surrogatepass")


def report_for(name: str, workspace_name: str | None) -> Report:
    identity = WorkspaceIdentity("abc12xyz", workspace_name, Region.US)
    granted = PermissionResult(
        permission=Permission(DataType.PEOPLE, Access.READ),
        verdict=Verdict.GRANTED,
        evidence=(Evidence("GET", "/contacts", 200, strength=Strength.PROOF),),
        position=Position(7, 28),
    )
    connector = ConnectorResult(
        path="c.yaml",
        name=name,
        auth_mode=AuthMode.ACCESS_TOKEN,
        token=TokenCheck(TokenStatus.VALID, env="INTERCOM_ACCESS_TOKEN"),
        workspace=WorkspaceCheck(WorkspaceStatus.MATCH, identity, identity, position=Position(4, 1)),
        permissions=(granted,),
    )
    return Report("9.9.9", (connector,))


def assert_encodes(text: str) -> None:
    text.encode("utf-8")  # strict: a lone surrogate raises here, as it does in every report writer


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=ANY_TEXT, workspace_name=ANY_TEXT, key=st.none() | ANY_TEXT)
def test_every_format_renders_whatever_lint_decides(name: str, workspace_name: str, key: str | None) -> None:
    # `key` is an extra key under permissions (never a valid data type); None leaves the file valid.
    raw = spec_text(name, workspace_name, key if key != "people" else "people2")
    try:
        spec = parse_spec(raw, "c.yaml")
    except SpecError as error:
        problems = error.problems
    else:
        problems = ()
        report = report_for(spec.name, spec.workspace.name)
        for fmt in Format:
            assert_encodes(render(fmt, report))
    result = LintResult((FileResult("c.yaml", problems),))
    for fmt in formats_for(Subject.LINT):
        assert_encodes(render_lint(fmt, result))


def test_a_lone_surrogate_is_refused_where_it_is_written() -> None:
    for raw, where in (
        (spec_text("conn\ud800x", "Acme"), (2, 7)),
        (spec_text("conn", "Acme", "ta\udfffgs"), (6, 31)),
    ):
        try:
            parse_spec(raw, "c.yaml")
        except SpecError as error:
            assert [(p.line, p.col) for p in error.problems] == [where]
            assert "lone surrogate" in error.problems[0].message
        else:
            raise AssertionError("accepted a lone surrogate")
