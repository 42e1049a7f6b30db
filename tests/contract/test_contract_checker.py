"""The contract checker itself: if it let drifted bodies or statuses through, the contract proves nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from contract.contract_checker import Exchange, contract_problems
from contract.openapi_spec import find_operation, load_description
from contract.test_sandbox_contract import ALLOWLIST
from validator.sandbox import Sandbox, SandboxTransport
from validator.sandbox import fixtures as fx

FULL = "sandbox-full-access-0001"


def _exchange(method: str, path: str, status: int, body: Any, version: str = "2.15") -> Exchange:
    return Exchange(version, method, path, status, json.dumps(body).encode())


def _served(sandbox: Sandbox, method: str, path: str, version: str = "2.15") -> Exchange:
    with httpx.Client(transport=SandboxTransport(sandbox), base_url="https://api.intercom.io") as client:
        response = client.request(
            method, path, headers={"Authorization": f"Bearer {FULL}", "Intercom-Version": version}
        )
    return Exchange(version, method, path, response.status_code, response.content)


ERROR = {
    "type": "error.list",
    "request_id": None,
    "errors": [{"code": "not_found", "message": "Resource Not Found"}],
}


def test_a_conforming_answer_has_no_problems() -> None:
    tags = {"type": "list", "data": [{"type": "tag", "id": "1", "name": "VIP"}]}
    assert contract_problems(_exchange("GET", "/tags", 200, tags), ALLOWLIST) == []


def test_a_field_of_the_wrong_type_is_caught() -> None:
    drifted = fx.data_attribute("company", "tier", "string", custom_id=44)
    drifted["id"] = "44"  # the schema says integer
    problems = contract_problems(_exchange("PUT", "/data_attributes/44", 200, drifted), ALLOWLIST)
    assert problems and "id" in problems[0] and "not of type 'integer'" in problems[0]


def test_a_drifted_list_item_is_caught() -> None:
    listing = fx.Listing(Sandbox().config.workspaces[0]).contacts(per_page=1)
    listing["data"][0]["created_at"] = "yesterday"
    problems = contract_problems(_exchange("GET", "/contacts", 200, listing), ALLOWLIST)
    assert any("data/0/created_at" in p for p in problems)


def test_a_version_specific_value_is_checked_against_its_own_version() -> None:
    conversation = fx.conversation(Sandbox().config.workspaces[0], fx.CONVERSATION_IDS[0], "2.16")
    path = f"/conversations/{fx.CONVERSATION_IDS[0]}"
    assert contract_problems(_exchange("PUT", path, 200, conversation, "2.16"), ALLOWLIST) == []
    problems = contract_problems(_exchange("PUT", path, 200, conversation, "2.15"), ALLOWLIST)
    assert any("priority" in p for p in problems)


def test_an_undocumented_status_is_caught() -> None:
    problems = contract_problems(_exchange("GET", "/tags", 404, ERROR), ALLOWLIST)
    assert problems == [
        "GET /tags → 404 (Intercom-Version 2.15): status 404 (not_found) is neither documented for "
        "GET /tags nor allowlisted"
    ]


def test_an_allowlisted_status_is_limited_to_its_routes() -> None:
    assert contract_problems(_exchange("GET", "/contacts/abc", 404, ERROR), ALLOWLIST) == []
    assert contract_problems(_exchange("GET", "/teams", 404, ERROR), ALLOWLIST) != []


def test_an_allowlisted_status_still_needs_an_error_body() -> None:
    problems = contract_problems(
        _exchange("GET", "/tags", 429, {"errors": [{"code": "rate_limit_exceeded"}]}), ALLOWLIST
    )
    assert any("'type' is a required property" in p for p in problems)


def test_an_error_without_a_code_is_caught_on_a_documented_status() -> None:
    body = {"type": "error.list", "errors": [{"message": "Access Token Invalid"}]}
    problems = contract_problems(_exchange("GET", "/contacts", 401, body), ALLOWLIST)
    assert any("'code' is a required property" in p for p in problems)


def test_a_route_outside_the_description_is_caught() -> None:
    problems = contract_problems(_exchange("GET", "/widgets", 200, {}), ALLOWLIST)
    assert problems == [
        "GET /widgets → 200 (Intercom-Version 2.15): no such operation in the 2.15 description"
    ]


def test_the_legacy_counts_shape_is_checked() -> None:
    assert contract_problems(_exchange("GET", "/counts", 200, {"type": "count.hash"}), ALLOWLIST) == [
        "GET /counts → 200 (Intercom-Version 2.15): company.count is not an integer",
        "GET /counts → 200 (Intercom-Version 2.15): user.count is not an integer",
    ]


def test_a_sandbox_whose_fixture_drifted_fails_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox = Sandbox()
    assert contract_problems(_served(sandbox, "GET", "/tags"), ALLOWLIST) == []

    def drifted_tag(tag_id: str) -> dict[str, Any]:
        return {"type": "tag", "id": int(tag_id), "name": "Manual tag"}

    monkeypatch.setattr(fx, "tag", drifted_tag)
    problems = contract_problems(_served(sandbox, "GET", "/tags"), ALLOWLIST)
    assert any("data/0/id" in p and "not of type 'string'" in p for p in problems)


def test_concrete_paths_match_templates_literal_first() -> None:
    description = load_description("2.16")
    assert find_operation(description, "POST", "/companies/list") is not None
    assert find_operation(description, "POST", "/companies/list")[0] == "/companies/list"  # type: ignore[index]
    assert find_operation(description, "PUT", "/companies/abc")[0] == "/companies/{company_id}"  # type: ignore[index]
    assert find_operation(description, "DELETE", "/tags") is None
