"""`validator.policy` and `validator.baseline` on constructed results: the cases the sandbox cannot easily
produce (a plan restriction or a partial grant of a forbidden permission, a refusal without proof)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from validator.baseline import BaselineError, parse_baseline
from validator.catalog import load_catalog
from validator.errors import ExitCode
from validator.model import (
    Access,
    Auth,
    AuthMode,
    ConnectorSpec,
    DataType,
    Declared,
    ExcessMode,
    Permission,
    PermissionOutcome,
    Policy,
    Strength,
    TokenStatus,
    Verdict,
    Waiver,
    Workspace,
    WorkspaceStatus,
)
from validator.policy import PolicySettings, forbidden_outcome, judge
from validator.report import (
    ConnectorResult,
    Evidence,
    PermissionResult,
    TokenCheck,
    WorkspaceCheck,
    WorkspaceIdentity,
)

TEAMS_READ = Permission(DataType.TEAMS_AND_TEAMMATES, Access.READ)
TAGS_WRITE = Permission(DataType.TAGS, Access.WRITE)
TODAY = dt.date(2026, 6, 1)


def evidence(verdict: Verdict, strength: Strength | None, path: str = "/admins") -> Evidence:
    return Evidence(
        "GET", path, 200 if verdict is Verdict.GRANTED else 401, strength=strength, verdict=verdict
    )


def forbidden(verdict: Verdict, *items: Evidence) -> PermissionResult:
    return PermissionResult(TEAMS_READ, verdict, tuple(items), declared=Declared.FORBIDDEN)


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (forbidden(Verdict.MISSING, evidence(Verdict.MISSING, Strength.PROOF)), PermissionOutcome.OK),
        (forbidden(Verdict.GRANTED, evidence(Verdict.GRANTED, Strength.PROOF)), PermissionOutcome.FAIL),
        (forbidden(Verdict.GRANTED, evidence(Verdict.GRANTED, Strength.INFERENCE)), PermissionOutcome.FAIL),
        # /admins granted, /teams refused: the forbidden label is there, partly: a grant.
        (
            forbidden(
                Verdict.MISSING,
                evidence(Verdict.GRANTED, Strength.PROOF),
                evidence(Verdict.MISSING, Strength.PROOF, "/teams"),
            ),
            PermissionOutcome.FAIL,
        ),
        (forbidden(Verdict.MISSING, evidence(Verdict.MISSING, None)), PermissionOutcome.INCONCLUSIVE),
        (forbidden(Verdict.PLAN_RESTRICTED, evidence(Verdict.PLAN_RESTRICTED, Strength.PROOF)),
         PermissionOutcome.INCONCLUSIVE),
        (forbidden(Verdict.UNVERIFIABLE), PermissionOutcome.INCONCLUSIVE),
        (forbidden(Verdict.INCONCLUSIVE, evidence(Verdict.INCONCLUSIVE, None)),
         PermissionOutcome.INCONCLUSIVE),
        (forbidden(Verdict.MISSING), PermissionOutcome.INCONCLUSIVE),  # no evidence at all: no proof
    ],
    ids=["absent", "granted-proof", "granted-inference", "partly", "no-proof", "plan", "unverifiable",
         "inconclusive", "no-evidence"],
)  # fmt: skip
def test_a_forbidden_permission_is_ok_only_on_proof_of_absence(
    result: PermissionResult, expected: PermissionOutcome
) -> None:
    assert forbidden_outcome(result)[0] is expected


def connector(*results: PermissionResult) -> ConnectorResult:
    identity = WorkspaceIdentity("abc12xyz", None, None)
    return ConnectorResult(
        "c.yaml", "c", AuthMode.ACCESS_TOKEN, TokenCheck(TokenStatus.VALID),
        WorkspaceCheck(WorkspaceStatus.MATCH, identity, identity), permissions=results,
    )  # fmt: skip


def spec_with(policy: Policy) -> ConnectorSpec:
    return ConnectorSpec(
        "c.yaml", "c", Workspace("abc12xyz"), Auth(AuthMode.ACCESS_TOKEN),
        (Permission(DataType.TAGS, Access.READ),), policy=policy,
    )  # fmt: skip


def test_a_plan_restricted_forbidden_permission_makes_the_run_inconclusive_not_a_pass() -> None:
    result = forbidden(Verdict.PLAN_RESTRICTED, evidence(Verdict.PLAN_RESTRICTED, Strength.PROOF))
    spec = spec_with(Policy(forbidden=(TEAMS_READ,)))
    judged = judge(connector(result), spec, load_catalog(), PolicySettings(today=TODAY))
    assert judged.exit_code is ExitCode.INCONCLUSIVE


def test_an_inconclusive_result_is_never_waived() -> None:
    result = PermissionResult(TAGS_WRITE, Verdict.INCONCLUSIVE, declared=Declared.FORBIDDEN)
    waiver = Waiver(TAGS_WRITE, "r", dt.date(2026, 12, 31))
    spec = spec_with(Policy(forbidden=(TAGS_WRITE,), waivers=(waiver,)))
    judged = judge(connector(result), spec, load_catalog(), PolicySettings(today=TODAY))
    assert judged.permissions[0].outcome is PermissionOutcome.INCONCLUSIVE
    assert judged.exit_code is ExitCode.INCONCLUSIVE and judged.warnings == ()


def test_a_waiver_expires_after_its_last_day() -> None:
    result = PermissionResult(TAGS_WRITE, Verdict.GRANTED, (evidence(Verdict.GRANTED, Strength.INFERENCE),),
                              declared=Declared.FORBIDDEN)  # fmt: skip
    waiver = Waiver(TAGS_WRITE, "r", TODAY)
    spec = spec_with(Policy(forbidden=(TAGS_WRITE,), waivers=(waiver,)))
    on_the_day = judge(connector(result), spec, load_catalog(), PolicySettings(today=TODAY))
    assert (
        on_the_day.exit_code is ExitCode.OK and on_the_day.permissions[0].outcome is PermissionOutcome.WAIVED
    )
    assert [notice.code for notice in on_the_day.warnings] == ["waiver_expiring"]
    after = judge(connector(result), spec, load_catalog(), PolicySettings(today=TODAY + dt.timedelta(days=1)))
    assert after.exit_code is ExitCode.FAILED
    assert [failure.code for failure in after.policy_failures] == ["waiver_expired"]


def test_excess_off_never_judges_undeclared_permissions() -> None:
    result = PermissionResult(TAGS_WRITE, Verdict.GRANTED, (evidence(Verdict.GRANTED, Strength.PROOF),),
                              declared=Declared.UNDECLARED)  # fmt: skip
    spec = spec_with(Policy(excess=ExcessMode.OFF))
    judged = judge(connector(result), spec, load_catalog(), PolicySettings(today=TODAY))
    assert judged.permissions[0].outcome is PermissionOutcome.OK and judged.exit_code is ExitCode.OK


def report(connectors: object, version: object = 1) -> bytes:
    return json.dumps({"format_version": version, "connectors": connectors}).encode()


def test_a_baseline_reads_every_verdict_and_skips_what_it_does_not_know() -> None:
    entries = [
        {"data_type": "tags", "access": "write", "status": "granted"},
        {"data_type": "tickets_of_the_future", "access": "read", "status": "granted"},
        {"data_type": "tags", "access": "read", "status": "a_new_verdict"},
    ]
    baseline = parse_baseline(report([{"path": "c.yaml", "name": "c", "permissions": entries}]), "b.json")
    found = baseline.find("other/c.yaml", "c")
    assert found is not None and dict(found.verdicts) == {TAGS_WRITE: Verdict.GRANTED}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"{", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),  # deeper than json goes: RecursionError, not exit 70
        (b"[]", "no connectors"),
        (report([], version=2), "format_version"),
        (report([{"name": "no path"}]), "no path"),
        (report([{"path": "c.yaml", "permissions": {}}]), "not a list"),
        (report([{"path": "c.yaml", "permissions": [1]}]), "other than a permission"),
    ],
)
def test_an_unusable_baseline_is_one_line_with_exit_7(raw: bytes, expected: str) -> None:
    with pytest.raises(BaselineError) as caught:
        parse_baseline(raw, "b.json")
    assert expected in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.exit_code is ExitCode.BASELINE_UNUSABLE and int(caught.value.exit_code) == 7
