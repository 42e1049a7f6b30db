"""Advice is one step after the check: the checker decides, `advise` says what to do, in catalog words."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from validator.advice import advise, after_change, remediation
from validator.catalog import load_catalog
from validator.checker import Checker
from validator.intercom import IntercomClient
from validator.model import Access, Auth, AuthMode, ConnectorSpec, DataType, Permission, Verdict, Workspace
from validator.report import ConnectorResult
from validator.sandbox import Sandbox, SandboxTransport
from validator.sandbox.permissions import Label
from validator.validate import Ready, RunOptions, run_checks

TOKEN_WITHOUT_WRITE_TAGS = "sandbox-no-write-tags-0002"  # the default sandbox's demo token
CATALOG = load_catalog()


def spec_for(mode: AuthMode, api_version: str | None = None) -> ConnectorSpec:
    return ConnectorSpec(
        path="connector.yaml",
        name="tagger",
        workspace=Workspace("abc12xyz"),
        auth=Auth(mode, "TAGGER_TOKEN"),
        permissions=(
            Permission(DataType.TAGS, Access.READ),
            Permission(DataType.TAGS, Access.WRITE),
            Permission(DataType.WORKSPACE_COUNTS, Access.WRITE),  # no catalog entry: unverifiable
        ),
        api_version=api_version,
    )


def checked(sandbox: Sandbox, spec: ConnectorSpec) -> ConnectorResult:
    async def go() -> ConnectorResult:
        client = IntercomClient(
            "https://api.intercom.io",
            TOKEN_WITHOUT_WRITE_TAGS,
            load_catalog().api_version_for(spec),
            transport=SandboxTransport(sandbox),
        )
        async with client:
            return await Checker(CATALOG).check(spec, client, "TAGGER_TOKEN")

    return asyncio.run(go())


def test_the_checker_decides_and_gives_no_advice(sandbox: Sandbox) -> None:
    result = checked(sandbox, spec_for(AuthMode.ACCESS_TOKEN))

    verdicts = {str(item.permission): item.verdict for item in result.permissions}
    assert verdicts == {
        "tags:read": Verdict.GRANTED,
        "tags:write": Verdict.MISSING,
        "workspace_counts:write": Verdict.UNVERIFIABLE,
    }
    assert [item.labels for item in result.permissions][:2] == [("Read tags",), ("Write tags",)]
    assert all(item.remediation is None for item in result.permissions)
    assert result.where_to_fix is None and result.after_change is None


@pytest.mark.parametrize("mode", list(AuthMode))
def test_advise_adds_the_catalogs_words_for_the_auth_mode_and_changes_nothing_else(
    sandbox: Sandbox, mode: AuthMode
) -> None:
    spec = spec_for(mode, "2.16")
    result = checked(sandbox, spec)

    advised = advise(result, CATALOG, spec)

    texts = CATALOG.remediation
    then = texts.after_change[mode].format(token_env="TAGGER_TOKEN")
    assert advised.where_to_fix == texts.where
    assert advised.after_change == then == after_change(CATALOG, spec.auth)
    read, write, counts = advised.permissions
    assert read.remediation is None
    assert write.remediation == f'In {texts.where}, tick "Write tags"; then {then}.'
    assert counts.remediation == (
        "Intercom offers no safe request that proves this permission with Intercom-Version 2.16. "
        "Check it by hand in Developer Hub ()."
    )
    for before, after in zip(result.permissions, advised.permissions, strict=True):
        assert (after.permission, after.verdict, after.evidence, after.labels, after.position) == (
            before.permission,
            before.verdict,
            before.evidence,
            before.labels,
            before.position,
        )
    assert (advised.token, advised.workspace, advised.exit_code) == (
        result.token,
        result.workspace,
        result.exit_code,
    )


def test_every_verdict_but_granted_gets_a_remediation() -> None:
    auth = Auth(AuthMode.OAUTH, "TAGGER_TOKEN")
    for verdict in Verdict:
        text = remediation(CATALOG, verdict, ("Write tags",), auth, "2.15")
        assert (text is None) is (verdict is Verdict.GRANTED), verdict


def test_the_validate_pipeline_advises_each_checked_connector_once(sandbox: Sandbox) -> None:
    spec = spec_for(AuthMode.OAUTH)
    options = RunOptions(transport_factory=lambda: SandboxTransport(sandbox))

    report = asyncio.run(run_checks([Ready(spec, TOKEN_WITHOUT_WRITE_TAGS, "TAGGER_TOKEN")], options))

    (connector,) = report.connectors
    expected = advise(checked(Sandbox(), spec), CATALOG, spec)
    assert (connector.where_to_fix, connector.after_change) == (expected.where_to_fix, expected.after_change)
    assert [(item.verdict, item.remediation) for item in connector.permissions] == [
        (item.verdict, item.remediation) for item in expected.permissions
    ]
    assert connector.permissions[1].remediation is not None  # the missing tags:write is advised


@pytest.mark.parametrize(
    ("mode", "after"),
    [(AuthMode.ACCESS_TOKEN, "regenerate the access token"), (AuthMode.OAUTH, "authorize the app again")],
)
def test_an_unverified_workspace_is_advised_to_tick_read_admins_for_its_auth_mode(
    mode: AuthMode, after: str
) -> None:
    """Issue 10 item 3: /me needing "Read admins"; the advice comes from the catalog, for the auth mode."""
    sandbox = Sandbox()
    [demo] = [t for t in sandbox.config.tokens if t.value == TOKEN_WITHOUT_WRITE_TAGS]
    stripped = dataclasses.replace(demo, permissions=demo.permissions - {Label.READ_ADMINS})
    sandbox.update(me_requires_read_admins=True, tokens=(stripped,))
    spec = spec_for(mode)
    result = checked(sandbox, spec)
    assert (
        result.workspace is not None and result.workspace.remediation is None
    )  # the checker advises nothing
    advised = advise(result, CATALOG, spec)
    assert advised.workspace is not None
    text = advised.workspace.remediation or ""
    assert 'tick "Read admins"' in text and "GET /me" in text and after in text
    assert "`" not in text  # plain text; formats that show Markdown use the catalog's own
