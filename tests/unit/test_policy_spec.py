"""connector.yaml `policy` (issue 11 item 1): what lint says about it, where, and the Policy built."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from validator.lint import lint_paths
from validator.model import Access, DataType, ExcessMode, Permission, Position
from validator.spec import SpecError, parse_spec

HEAD = (
    "version: 1\nname: x\nplatform: intercom\nworkspace: {id: abc12xyz}\nauth: {mode: access_token}\n"
    "permissions:\n  conversations: [read]\n  tags: [read]\n"
)


def problems(policy: str) -> list[tuple[int, int, str]]:
    with pytest.raises(SpecError) as caught:
        parse_spec((HEAD + "policy:\n" + policy).encode(), "c.yaml")
    return [(p.line, p.col, p.message) for p in caught.value.problems]


def test_a_full_policy_loads_with_the_position_of_every_entry() -> None:
    policy = (
        "  forbidden:\n    conversations: [write]\n  excess: warn\n  waivers:\n"
        "    - permission: tags.write\n      reason: being removed\n      expires: 2027-01-31\n"
        '    - permission: tags.read\n      reason: "quoted date"\n      expires: "2027-02-01"\n'
    )
    spec = parse_spec((HEAD + "policy:\n" + policy).encode(), "c.yaml")
    write = Permission(DataType.CONVERSATIONS, Access.WRITE)
    assert spec.policy.forbidden == (write,)
    assert spec.policy.forbidden_positions[write] == Position(11, 21)
    assert spec.policy.excess is ExcessMode.WARN
    assert [w.expires for w in spec.policy.waivers] == [dt.date(2027, 1, 31), dt.date(2027, 2, 1)]
    assert [w.position for w in spec.policy.waivers] == [Position(14, 7), Position(17, 7)]


def test_unquoted_off_is_the_word_off() -> None:
    spec = parse_spec((HEAD + "policy:\n  excess: off\n").encode(), "c.yaml")
    assert spec.policy.excess is ExcessMode.OFF


def test_needed_and_forbidden_is_a_problem_at_the_forbidden_entry() -> None:
    [(line, col, message)] = problems("  forbidden:\n    tags: [write, read]\n")
    assert (line, col) == (11, 19) and "both needed" in message and "line 8" in message


def test_a_waiver_that_can_never_apply_is_a_problem_unless_excess_probes_it() -> None:
    waiver = "  waivers:\n    - {permission: people.write, reason: r, expires: 2027-01-31}\n"
    [(line, _, message)] = problems(waiver)
    assert line == 11 and "can never apply" in message
    parse_spec((HEAD + "policy:\n  excess: warn\n" + waiver).encode(), "c.yaml")


@pytest.mark.parametrize(
    ("waiver", "expected"),
    [
        ("{permission: tags.write, expires: 2027-01-31}", "missing required key 'reason'"),
        ('{permission: tags.read, reason: "  ", expires: 2027-01-31}', "holds only spaces"),
        ('{permission: tags.read, reason: r, expires: "2027-02-30"}', "is not a date"),
        ('{permission: tags.read, reason: r, expires: "next week"}', "is not a date"),
        ("{permission: tags.rw, reason: r, expires: 2027-01-31}", "is not a permission"),
        ("{permission: workspace_counts.write, reason: r, expires: 2027-01-31}", "can declare"),
    ],
)
def test_waiver_problems_have_a_position(waiver: str, expected: str) -> None:
    found = problems(f"  excess: warn\n  waivers:\n    - {waiver}\n")
    assert any(expected in message and line == 12 for line, _, message in found), found


def test_a_waiver_twice_is_a_problem() -> None:
    twice = "  waivers:\n" + "    - {permission: tags.read, reason: r, expires: 2027-01-31}\n" * 2
    [(line, _, message)] = problems(twice)
    assert line == 12 and "waived twice" in message


def test_an_expired_waiver_is_a_lint_warning_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        HEAD + "policy:\n  waivers:\n    - {permission: tags.read, reason: r, expires: 2026-05-31}\n"
    )
    result = lint_paths([path], today=dt.date(2026, 6, 1))
    assert result.exit_code == 0 and result.problems == ()
    [warning] = result.warnings
    assert warning.line == 11 and "expired on 2026-05-31" in warning.message
    assert lint_paths([path], today=dt.date(2026, 5, 31)).warnings == ()


def test_plan_lists_the_forbidden_and_under_excess_every_undeclared_permission() -> None:
    from validator.catalog import load_catalog
    from validator.model import Declared
    from validator.plan import build_plan

    catalog = load_catalog()
    text = HEAD + "policy:\n  forbidden:\n    conversations: [write]\n"
    plan = build_plan(parse_spec(text.encode(), "c.yaml"), catalog)
    assert [(str(p.permission), p.declared) for p in plan.permissions] == [
        ("conversations:read", Declared.REQUIRED),
        ("tags:read", Declared.REQUIRED),
        ("conversations:write", Declared.FORBIDDEN),
    ]
    excess = build_plan(parse_spec((text + "  excess: fail\n").encode(), "c.yaml"), catalog)
    probeable = {permission for permission, entry in catalog.permissions.items() if entry.probes}
    assert {p.permission for p in excess.permissions} == probeable
    assert {p.declared for p in excess.permissions[3:]} == {Declared.UNDECLARED}
