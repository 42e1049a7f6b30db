"""Write endpoints: the validator's probes change nothing; writes that would succeed are flagged."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.support import FULL, client_for, error_code
from validator.sandbox import Sandbox
from validator.sandbox import fixtures as fx

NO_ID = "ffffffffffffffffffffffff"

# The exact write probes of API-NOTES §5 and the documented answer when the permission is granted.
PROBES: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("POST", "/tags", {"test": "invalid"}, 400, "parameter_invalid"),
    ("POST", "/companies", {"test": "invalid"}, 400, "bad_request"),
    ("PUT", f"/companies/{NO_ID}", {}, 404, "company_not_found"),
    ("POST", f"/contacts/{NO_ID}/companies", {}, 404, "not_found"),
    ("PUT", "/conversations/0", {"read": True}, 404, "not_found"),
    (
        "POST",
        "/conversations/0/parts",
        {"message_type": "close", "type": "admin", "admin_id": "1"},
        404,
        "not_found",
    ),
    (
        "PUT",
        "/admins/0/away",
        {"away_mode_enabled": False, "away_mode_reassign": False},
        404,
        "admin_not_found",
    ),
    ("PUT", "/data_attributes/0", {"description": "x"}, 404, "field_not_found"),
    (
        "POST",
        "/data_attributes",
        {"name": "probe", "model": "company", "data_type": "mithril"},
        400,
        "parameter_invalid",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), PROBES, ids=lambda p: str(p))
def test_write_probes_get_the_documented_rejection_and_change_nothing(
    method: str, path: str, body: dict[str, Any], status: int, code: str
) -> None:
    sandbox = Sandbox()
    with client_for(sandbox) as client:
        response = client.request(method, path, json=body)
    assert (response.status_code, error_code(response)) == (status, code)
    assert sandbox.log.mutations == []


def test_rejection_messages_follow_the_examples() -> None:
    with client_for(Sandbox()) as client:
        assert (
            client.post("/tags", json={"test": "invalid"}).json()["errors"][0]["message"]
            == "invalid tag parameters"
        )
        assert (
            client.post("/companies", json={"test": "invalid"}).json()["errors"][0]["message"]
            == "bad 'test' parameter"
        )
        bad_type = client.post(
            "/data_attributes", json={"name": "p", "model": "company", "data_type": "mithril"}
        )
        assert bad_type.json()["errors"][0]["message"] == "Data Type isn't an option"


def test_conversation_model_attributes_are_422_in_2_16_only() -> None:
    with client_for(Sandbox(), **{"Intercom-Version": "2.16"}) as new, client_for(Sandbox()) as default:
        refused = new.get("/data_attributes", params={"model": "conversation"})
        assert (refused.status_code, error_code(refused)) == (422, "parameter_invalid")
        assert default.get("/data_attributes", params={"model": "conversation"}).status_code == 200
        assert new.get("/data_attributes", params={"model": "contact"}).status_code == 200


@pytest.mark.allows_mutation
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/tags", {"name": "VIP"}),
        ("POST", "/companies", {"company_id": "remote-77"}),
        ("PUT", f"/companies/{fx.COMPANY_IDS[0]}", {"name": "Renamed"}),
        ("PUT", f"/contacts/{fx.CONTACT_IDS[0]}", {"name": "Renamed"}),
        ("POST", f"/contacts/{fx.CONTACT_IDS[0]}/companies", {"id": fx.COMPANY_IDS[1]}),
        ("PUT", f"/conversations/{fx.CONVERSATION_IDS[0]}", {"read": True}),
        ("POST", f"/conversations/{fx.CONVERSATION_IDS[0]}/parts", {"message_type": "close"}),
        ("PUT", "/admins/991267460/away", {"away_mode_enabled": True, "away_mode_reassign": False}),
        ("POST", "/data_attributes", {"name": "shoe_size", "model": "contact", "data_type": "integer"}),
        ("PUT", f"/data_attributes/{fx.CUSTOM_ATTRIBUTE_IDS[1]}", {"description": "x"}),
    ],
)
def test_a_write_that_would_succeed_answers_200_and_is_flagged(
    method: str, path: str, body: dict[str, Any]
) -> None:
    sandbox = Sandbox()
    with client_for(sandbox) as client:
        before = client.get("/tags").json()
        response = client.request(method, path, json=body)
        after = client.get("/tags").json()
    assert response.status_code == 200
    [mutation] = sandbox.log.mutations
    assert (mutation.method, mutation.path, mutation.body) == (method, path, body)
    assert before == after  # flagged, but the sandbox's data stays as it was


def test_reads_are_never_flagged() -> None:
    sandbox = Sandbox()
    with client_for(sandbox) as client:
        for path in (
            "/me",
            "/contacts",
            "/conversations",
            "/admins",
            "/teams",
            "/tags",
            "/counts",
            "/data_attributes",
        ):
            assert client.get(path).status_code == 200
        assert client.post("/companies/list", params={"per_page": 1}).status_code == 200
    assert len(sandbox.log) == 9
    assert sandbox.log.mutations == []


def test_lists_honour_per_page_and_report_the_total() -> None:
    with client_for(Sandbox()) as client:
        page = client.get("/contacts", params={"per_page": 1}).json()
        companies = client.post("/companies/list", params={"per_page": 1}).json()
    assert (len(page["data"]), page["total_count"]) == (1, len(fx.CONTACT_IDS))
    assert (len(companies["data"]), companies["total_count"]) == (1, len(fx.COMPANY_IDS))


def test_counts_answer_the_legacy_count_hash() -> None:
    with client_for(Sandbox()) as client:
        counts = client.get("/counts").json()
    assert counts["type"] == "count.hash"
    assert counts["company"] == {"count": len(fx.COMPANY_IDS)}
    assert isinstance(counts["user"]["count"], int)


def test_the_log_masks_the_token_and_records_the_request() -> None:
    sandbox = Sandbox()
    with client_for(sandbox, **{"Intercom-Version": "2.16"}) as client:
        client.post("/tags", params={"dry": "1"}, json={"test": "invalid"})
    [entry] = sandbox.log.entries
    assert (entry.method, entry.path, entry.query, entry.body) == (
        "POST",
        "/tags",
        {"dry": ("1",)},
        {"test": "invalid"},
    )
    assert entry.headers["authorization"] == "Bearer ***"
    assert entry.headers["intercom-version"] == "2.16"
    assert (entry.status, entry.mutation, entry.route) == (400, False, "POST /tags")
    assert FULL not in repr(sandbox.log.entries)


def test_a_token_pasted_into_a_body_or_query_is_masked_too() -> None:
    sandbox = Sandbox()
    with client_for(sandbox) as client:
        client.post("/tags", params={"t": FULL}, json={"test": f"my token is {FULL}"})
        client.get("/me", headers={"Authorization": "Bearer sandbox-unknown-token"})
    text = repr(sandbox.log.entries)
    assert FULL not in text
    assert "sandbox-unknown-token" not in text


def test_token_values_stay_out_of_reprs() -> None:
    sandbox = Sandbox()
    assert FULL not in repr(sandbox.config)
    assert all(t.value not in repr(t) for t in sandbox.accepted_tokens())
