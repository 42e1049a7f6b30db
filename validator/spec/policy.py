"""`policy` of a connector.yaml: what the schema cannot say, and the `Policy` built from a valid file.

The schema checks the shape; this module checks the meaning, each problem at its line:col: a permission both
needed and forbidden, a waiver of a permission that does not exist, of one the run never judges (neither
needed, nor forbidden, nor probed under `excess`), waived twice, or an expiry that is not a calendar date.
YAML's unquoted date (`expires: 2027-01-31`, read as a date) is accepted: `normalize_dates` turns it into
the string the schema expects before the schema sees it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any, cast

from validator.model import Access, DataType, ExcessMode, Permission, Policy, Position, Waiver
from validator.schemas import load_schema
from validator.spec.problems import Found, public_position, value_position
from validator.spec.yamlnodes import Document

POLICY = "$.policy"


def normalize_dates(document: Document) -> None:
    """Write what YAML 1.1 read into another type back as the word the schema expects: each waiver's
    unquoted date (`expires: 2027-01-31`) as its ISO string, and `excess: off` (read as false) as "off"."""
    data = document.data
    if not isinstance(data, dict):
        return
    policy = data.get("policy")
    excess = document.values.get(f"{POLICY}.excess")
    if isinstance(policy, dict) and excess is not None and excess.plain and excess.source == "off":
        policy["excess"] = str(ExcessMode.OFF)
    waivers = policy.get("waivers") if isinstance(policy, dict) else None
    if not isinstance(waivers, list):
        return
    for waiver in waivers:
        if isinstance(waiver, dict):
            expires = waiver.get("expires")
            if isinstance(expires, dt.date) and not isinstance(expires, dt.datetime):
                waiver["expires"] = expires.isoformat()


def parse_permission(text: str) -> Permission | None:
    """`tags.write` → the permission, or None when connector.yaml cannot declare such a permission."""
    data_type, _, access = text.partition(".")
    try:
        permission = Permission(DataType(data_type), Access(access))
    except ValueError:
        return None
    return permission if access in _allowed_accesses().get(data_type, ()) else None


def _allowed_accesses() -> dict[str, tuple[str, ...]]:
    """The access levels `permissions` allows per data type, as the schema says (no write for counts)."""
    schema = load_schema("connector.schema.json")
    found: dict[str, tuple[str, ...]] = {}
    for data_type, node in schema["properties"]["permissions"]["properties"].items():
        items = node.get("items") or schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]["items"]
        found[data_type] = tuple(items["enum"])
    return found


def policy_problems(document: Document) -> Iterator[Found]:
    """What is wrong with the meaning of `policy` in a file the schema accepts."""
    data = cast(dict[str, Any], document.data)
    policy = data.get("policy")
    if not isinstance(policy, dict):
        return
    required = {
        Permission(DataType(data_type), Access(level))
        for data_type, levels in cast(dict[str, list[str]], data["permissions"]).items()
        for level in levels
    }
    forbidden: set[Permission] = set()
    for data_type, levels in cast(dict[str, list[str]], policy.get("forbidden", {})).items():
        for index, level in enumerate(levels):
            permission = Permission(DataType(data_type), Access(level))
            forbidden.add(permission)
            if permission in required:
                path = f"{POLICY}.forbidden.{data_type}[{index}]"
                needed = document.values.get(f"$.permissions.{data_type}")
                where = f", line {public_position(needed).line}" if needed is not None else ""
                message = (
                    f"{data_type}:{level} is both needed (permissions.{data_type}{where}) and forbidden; "
                    "a token cannot both have and lack it: remove one of them"
                )
                yield Found(value_position(document.values.get(path)), message, path)
    probes_all = policy.get("excess", ExcessMode.OFF) != ExcessMode.OFF
    seen: dict[Permission, int] = {}
    for index, waiver in enumerate(cast(list[dict[str, Any]], policy.get("waivers", []))):
        base = f"{POLICY}.waivers[{index}]"
        text = str(waiver["permission"])
        waived = parse_permission(text)
        path = f"{base}.permission"
        at = value_position(document.values.get(path))
        if waived is None:
            yield Found(at, f"'{text}' is not a permission connector.yaml can declare", path)
        elif waived in seen:
            yield Found(at, f"{text} is waived twice (also policy.waivers[{seen[waived]}])", path)
        elif waived not in required | forbidden and not probes_all:
            message = (
                f"the waiver for {text} can never apply: {waived} is neither needed (permissions) nor "
                "forbidden (policy.forbidden), and policy.excess is off so it is not probed"
            )
            yield Found(at, message, path)
        if waived is not None:
            seen.setdefault(waived, index)
        expires_path = f"{base}.expires"
        if _date(str(waiver["expires"])) is None:
            message = (
                f"policy.waivers[{index}].expires: '{waiver['expires']}' is not a date; write YYYY-MM-DD"
            )
            yield Found(value_position(document.values.get(expires_path)), message, expires_path)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def build_policy(data: Mapping[str, Any], positions: Mapping[str, Position]) -> Policy:
    """The `Policy` of a valid file (`policy_problems` found nothing), with the position of every entry."""
    policy = data.get("policy")
    if not isinstance(policy, dict):
        return Policy()
    forbidden: list[Permission] = []
    forbidden_positions: dict[Permission, Position] = {}
    for data_type, levels in cast(dict[str, list[str]], policy.get("forbidden", {})).items():
        for index, level in enumerate(levels):
            permission = Permission(DataType(data_type), Access(level))
            forbidden.append(permission)
            forbidden_positions[permission] = positions[f"{POLICY}.forbidden.{data_type}[{index}]"]
    waivers: list[Waiver] = []
    for index, waiver in enumerate(cast(list[dict[str, Any]], policy.get("waivers", []))):
        waived = parse_permission(str(waiver["permission"]))
        expires = _date(str(waiver["expires"]))
        assert waived is not None and expires is not None  # policy_problems refused the file otherwise
        waivers.append(
            Waiver(waived, str(waiver["reason"]), expires, positions.get(f"{POLICY}.waivers[{index}]"))
        )
    return Policy(
        forbidden=tuple(forbidden),
        excess=ExcessMode(policy.get("excess", ExcessMode.OFF)),
        waivers=tuple(waivers),
        forbidden_positions=forbidden_positions,
        position=positions.get(POLICY),
    )


def expired_waivers(policy: Policy, today: dt.date) -> Iterator[Waiver]:
    yield from (waiver for waiver in policy.waivers if waiver.expired(today))
