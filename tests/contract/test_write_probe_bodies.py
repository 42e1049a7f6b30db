"""Every write probe's body is refused by the request schema of its operation, in 2.15 and 2.16.

The impossible id is one protection; the body is the other, so that nothing could change even if the id
existed (issue 9, item 10). "Refused" means: the body does not validate against the operation's JSON request
schema as sent, nor after filling in the defaults the schema documents (a server applies them: `{}` on
PUT /admins/{id}/away would mean away_mode_enabled=true). The body must stay well-formed JSON, since
invalid JSON answers 400 parameter_invalid, which proves nothing.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from contract.openapi_spec import (
    VERSIONS,
    body_problems,
    find_operation,
    load_description,
    request_schema_pointer,
    resolve,
)
from validator.catalog import Probe, load_catalog
from validator.checker import _is_read
from validator.model import Verdict
from validator.sandbox import Sandbox, SandboxTransport

FULL = "sandbox-full-access-0001"  # a token of the default sandbox configuration with every permission

CATALOG = load_catalog()
WRITE_PROBES = [probe for probe in CATALOG.all_probes() if probe.method != "GET" and not _is_read(probe)]
# Each write probe with every version it is sent with (a probe with `versions` only with those).
WRITES_SENT = [(probe, version) for probe in WRITE_PROBES for version in VERSIONS if probe.sent_with(version)]


def _sent_id(value: object) -> str:
    return f"{value.method} {value.path}" if isinstance(value, Probe) else str(value)


def _defaults(version: str, schema: Any) -> dict[str, Any]:
    """The top-level defaults a schema documents, in any of its branches (oneOf/anyOf/allOf)."""
    schema = resolve(version, schema)
    if not isinstance(schema, dict):
        return {}
    found: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        prop = resolve(version, prop)
        if isinstance(prop, dict) and "default" in prop:
            found[name] = prop["default"]
    for keyword in ("oneOf", "anyOf", "allOf"):
        for branch in schema.get(keyword, []):
            for name, value in _defaults(version, branch).items():
                found.setdefault(name, value)
    return found


def acceptance(version: str, method: str, path: str, body: Any) -> list[str]:
    """Why the operation's request schema would ACCEPT `body` (empty when it refuses it, as it must)."""
    found = find_operation(load_description(version), method, path)
    if found is None:
        return [f"{method} {path} is not an operation of {version}"]
    template, operation = found
    pointer = request_schema_pointer(version, template, method)
    if pointer is None:
        return [f"{method} {template} documents no JSON request body in {version}: nothing can refuse it"]
    reasons = []
    if not body_problems(version, pointer, body):
        reasons.append(f"{method} {template} ({version}) accepts {json.dumps(body)}")
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    filled = {**_defaults(version, schema), **body} if isinstance(body, dict) else body
    if filled != body and not body_problems(version, pointer, filled):
        reasons.append(f"{method} {template} ({version}) accepts {json.dumps(body)} once defaults fill it in")
    return reasons


def test_there_are_write_probes_to_check() -> None:
    assert len(WRITE_PROBES) >= 13
    for version in VERSIONS:  # the help-desk writes of issue 10, in each version
        sent = {(probe.method, probe.path) for probe, used in WRITES_SENT if used == version}
        assert ("POST", "/contacts/000000000000000000000000/notes") in sent
        assert ("PUT", "/help_center/collections/0") in sent
    assert ("POST", "/tickets/0/linked_conversations", "2.16") in {
        (p.method, p.path, v) for p, v in WRITES_SENT
    }
    assert ("PUT", "/tickets/0", "2.15") in {(p.method, p.path, v) for p, v in WRITES_SENT}


def test_no_write_of_api_notes_without_a_safe_form_is_ever_probed() -> None:
    """API-NOTES §8's writes with no safe form are never sent, in any version."""
    never = {
        ("POST", "/tickets"),
        ("POST", "/tickets/enqueue"),
        ("POST", "/ticket_types"),
        ("POST", "/news/news_items"),
        ("POST", "/events"),
        ("POST", "/events/summaries"),
        ("POST", "/export/content/data"),
        ("POST", "/visitors/convert"),
        ("POST", "/phone_call_redirects"),
    }
    assert not never & {(probe.method, probe.path) for probe in CATALOG.all_probes()}


@pytest.mark.parametrize(("probe", "version"), WRITES_SENT, ids=_sent_id)
def test_every_write_probe_body_is_refused_by_its_request_schema(probe: Probe, version: str) -> None:
    assert probe.body is not None, "a write probe without a body relies on its id alone"
    assert acceptance(version, probe.method, probe.path, dict(probe.body)) == []


@pytest.mark.parametrize("probe", WRITE_PROBES, ids=lambda probe: f"{probe.method} {probe.path}")
def test_every_write_probe_body_is_well_formed_json_object(probe: Probe) -> None:
    text = json.dumps(probe.body, allow_nan=False)
    assert isinstance(json.loads(text), dict)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/companies/000000000000000000000000", {}),
        ("PUT", "/conversations/0", {}),
        ("PUT", "/conversations/0", {"read": True}),  # API-NOTES §5's suggestion: a valid update
        ("PUT", "/admins/0/away", {}),  # refused as sent, accepted once the defaults fill it in
        ("PUT", "/admins/0/away", {"away_mode_enabled": False, "away_mode_reassign": False}),
        ("PUT", "/data_attributes/0", {}),
        ("PUT", "/data_attributes/0", {"description": "x"}),
        ("PUT", "/companies/000000000000000000000000", {"custom_attributes": {"tier": "gold"}}),
        # API-NOTES §8's suggestions for the help-desk writes are valid empty updates
        ("PUT", "/tickets/0", {}),
        ("PUT", "/articles/0", {}),
        ("PUT", "/help_center/collections/0", {}),
        ("POST", "/contacts/000000000000000000000000/notes", {"body": "x"}),
    ],
)
def test_the_check_catches_bodies_that_would_be_valid_updates(
    version: str, method: str, path: str, body: dict[str, Any]
) -> None:
    """The check above can fail: the bodies the probes used to send are caught."""
    assert acceptance(version, method, path, body) != []


def test_the_check_fills_in_the_away_mode_default() -> None:
    for version in VERSIONS:
        [reason] = acceptance(version, "PUT", "/admins/0/away", {})
        assert "once defaults fill it in" in reason


@pytest.mark.parametrize(("probe", "version"), WRITES_SENT, ids=_sent_id)
def test_the_sandbox_answers_each_write_probe_with_a_granting_rule_and_records_no_mutation(
    probe: Probe, version: str
) -> None:
    sandbox = Sandbox()
    headers = {"Authorization": f"Bearer {FULL}", "Intercom-Version": version}
    with httpx.Client(transport=SandboxTransport(sandbox), base_url="https://api.intercom.io") as client:
        response = client.request(probe.method, probe.path, json=probe.body, headers=headers)
    code = response.json()["errors"][0]["code"]
    granting = {
        (rule.status, c) for rule in probe.answers if rule.verdict is Verdict.GRANTED for c in rule.codes
    }
    assert (response.status_code, code) in granting
    assert sandbox.log.mutations == []


@pytest.mark.parametrize(
    "probe", [p for p in WRITE_PROBES if not p.sent_with("2.15")], ids=lambda p: f"{p.method} {p.path}"
)
def test_a_2_16_only_write_sent_with_2_15_would_be_unverifiable_not_granted(probe: Probe) -> None:
    """Even a version-selection bug cannot grant: the sandbox answers 400 intercom_version_invalid."""
    from validator.checker import classify
    from validator.intercom import Answer

    sandbox = Sandbox()
    headers = {"Authorization": f"Bearer {FULL}", "Intercom-Version": "2.15"}
    with httpx.Client(transport=SandboxTransport(sandbox), base_url="https://api.intercom.io") as client:
        response = client.request(probe.method, probe.path, json=probe.body, headers=headers)
    assert (response.status_code, response.json()["errors"][0]["code"]) == (400, "intercom_version_invalid")
    answer = Answer(
        probe.method,
        probe.path,
        response.status_code,
        body=response.json(),
        body_is_json=True,
        headers={"content-type": response.headers["content-type"]},
    )
    assert classify(probe, answer, CATALOG.common_answers).verdict is Verdict.UNVERIFIABLE
    assert sandbox.log.mutations == []
