"""`plan`: what `validate` would send, shown offline, without a token, without httpx, without a socket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from validator.catalog import load_catalog
from validator.formats import Format, render_plan
from validator.plan import PlanError, load_plan
from validator.spec import load_spec

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "connector.yaml"  # declares every data type, read and write

SOME_PERMISSIONS = """\
version: 1
name: partial
platform: intercom
workspace: {id: eu34wksp, region: eu}
auth: {mode: access_token}
api_version: "2.16"
permissions:
  conversations: [write]
  teams_and_teammates: [read]
"""


def plan_file(path: Path, fmt: Format = Format.TEXT) -> str:
    """What `connector-validator plan PATH --format FMT` prints."""
    return render_plan(fmt, load_plan(path))


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("plan opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def partial(tmp_path: Path) -> Path:
    path = tmp_path / "connector.yaml"
    path.write_text(SOME_PERMISSIONS, encoding="utf-8")
    return path


def test_text_plan_names_every_request_of_every_declared_permission_after_the_identity_check(
    no_network: None,
) -> None:
    text = plan_file(EXAMPLE)

    catalog = load_catalog()
    identity_at = text.index("GET /me")
    for permission in load_spec(EXAMPLE).permissions:
        entry = catalog.probes_for(permission)
        assert entry is not None
        assert f". {permission} (Developer Hub: " in text
        for probe in entry.probes:
            request_at = text.index(f"{probe.method} {probe.target}\n")
            assert request_at > identity_at
            assert f"safe because: {probe.why_safe}" in text
            if probe.body is not None:
                assert f"body: {json.dumps(probe.body)}" in text


def test_text_plan_says_what_each_answer_would_mean_and_how_strong_the_evidence_is(partial: Path) -> None:
    text = plan_file(partial)

    assert "PUT /conversations/0\n" in text
    assert (
        "404 conversation_not_found → granted (inference): past the permission check: "
        "the conversation does not exist"
    ) in text
    assert (
        "404 not_found unlike the route-miss control's answer → granted (inference): past the permission "
        "check: the conversation does not exist"
    ) in text
    assert "POST /conversations\n" in text
    assert '404 not_found with "User Not Found" in the message → granted (inference)' in text
    assert "alternative proofs: one granted request suffices, unless another says missing" in text
    # The control the bare 404 is read against is shown, with the rule (issue 10 item 4).
    assert "Route-miss controls (sent once, in the same concurrent round as the probes):" in text
    assert "   PUT /connector_validator_route_check/0\n" in text
    assert "POST /connector_validator_route_check/0" not in text  # no declared POST probe needs one
    assert "makes the permission inconclusive, never granted" in " ".join(text.split())
    assert "evidence when granted: inference" in text
    assert "GET /admins\n" in text and "GET /teams\n" in text
    assert "200 with a body of type admin.list in the documented shape admin_list → granted (proof)" in text
    assert "401 token_unauthorized → missing (proof)" in text  # a common answer
    assert "https://api.eu.intercom.io" in text and "Intercom-Version 2.16" in text
    assert "GET /contacts" not in text  # people is not declared


def test_json_plan_lists_the_declared_permissions_with_their_requests_and_answer_rules(partial: Path) -> None:
    document = json.loads(plan_file(partial, Format.JSON))

    assert document["identity"]["path"] == "/me"
    assert [(p["data_type"], p["access"]) for p in document["permissions"]] == [
        ("conversations", "write"),
        ("teams_and_teammates", "read"),
    ]
    write, read = document["permissions"]
    assert write["alternatives"] is True
    assert write["requests"] == [
        {
            "method": "PUT",
            "target": "/conversations/0",
            "body": {"custom_attributes": {"invalid": True}},
            "why_safe": write["requests"][0]["why_safe"],
            "labels": ["Write conversations"],
            "strength": "inference",
            "answers": write["requests"][0]["answers"],
        },
        {
            "method": "POST",
            "target": "/conversations",
            "body": {"from": {"type": "user", "id": "0" * 24}},
            "why_safe": write["requests"][1]["why_safe"],
            "labels": ["Write conversations"],
            "strength": "inference",
            "answers": write["requests"][1]["answers"],
        },
    ]
    assert {"status": 404, "verdict": "granted", "strength": "inference"}.items() <= write["requests"][0][
        "answers"
    ][0].items()
    bare = write["requests"][0]["answers"][1]
    assert (bare["codes"], bare["route_miss_possible"]) == (["not_found"], True)
    assert document["route_miss"]["controls"] == [
        {
            "method": "PUT",
            "path": "/connector_validator_route_check/0",
            "body": {},
            "why_safe": document["route_miss"]["controls"][0]["why_safe"],
        }
    ]
    assert "never granted" in document["route_miss"]["rule"]
    assert [request["target"] for request in read["requests"]] == ["/admins", "/teams"]
    assert {rule["verdict"] for rule in document["common_answers"]} >= {"missing", "plan_restricted"}


def test_an_invalid_connector_yaml_is_a_one_line_plan_error(tmp_path: Path) -> None:
    path = tmp_path / "connector.yaml"
    path.write_text(SOME_PERMISSIONS.replace("mode: access_token", "mode: password"), encoding="utf-8")

    with pytest.raises(PlanError) as raised:
        plan_file(path)

    assert str(raised.value).startswith(f"{path}:")
    assert "\n" not in str(raised.value)


@pytest.mark.e2e  # runs the CLI in a child interpreter
def test_plan_runs_without_token_httpx_or_sockets_as_a_command(partial: Path) -> None:
    # A fresh interpreter, so that nothing another test imported can hide an import of httpx.
    script = textwrap.dedent(
        """
        import socket, sys, runpy
        def refuse(*args, **kwargs):
            raise SystemExit("plan opened a network connection")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        sys.argv = ["connector-validator", "plan", sys.argv[1]]
        try:
            runpy.run_module("validator", run_name="__main__")
        except SystemExit as done:
            code = done.code
        print("httpx imported:", "httpx" in sys.modules, file=sys.stderr)
        sys.exit(code)
        """
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("INTERCOM_")}

    done = subprocess.run(
        [sys.executable, "-c", script, str(partial)], env=env, capture_output=True, text=True, timeout=30
    )

    assert done.returncode == 0, done.stderr
    assert "PUT /conversations/0" in done.stdout
    assert "httpx imported: False" in done.stderr


def test_every_rule_with_a_documented_shape_names_it() -> None:
    document = json.loads(plan_file(EXAMPLE, Format.JSON))
    catalog = load_catalog()
    shaped = {
        (probe.method, probe.target, rule.status): rule.shape.name
        for probe in catalog.all_probes()
        for rule in probe.answers
        if rule.shape is not None
    }
    named = 0
    for planned in document["permissions"]:
        for request in planned["requests"]:
            for rule in request["answers"]:
                shape = shaped.get((request["method"], request["target"], rule["status"]))
                if shape is not None:
                    assert f"in the documented shape {shape} →" in rule["description"]
                    named += 1
                else:
                    assert "documented shape" not in rule["description"]
    assert named >= 8  # every read of the example proves itself by a shape


def test_a_format_plan_does_not_write_is_a_one_line_usage_error() -> None:
    from validator.errors import ExitCode
    from validator.formats import Subject, UnsupportedFormat, renderer

    with pytest.raises(UnsupportedFormat) as raised:
        renderer(Format.JUNIT, Subject.PLAN)
    assert str(raised.value) == "unknown format 'junit' for plan (text, json)"
    assert raised.value.exit_code is ExitCode.USAGE


HELPDESK = """\
version: 1
name: helpdesk
platform: intercom
workspace: {{id: abc12xyz}}
auth: {{mode: access_token}}
api_version: "{version}"
permissions:
  conversations: [read]
  tickets: [write]
  events: [write]
  help_center: [read]
"""


def _helpdesk(tmp_path: Path, version: str) -> Path:
    path = tmp_path / f"helpdesk-{version}.yaml"
    path.write_text(HELPDESK.format(version=version), encoding="utf-8")
    return path


def test_plan_says_per_data_type_what_proves_it_and_how_strong(tmp_path: Path) -> None:
    document = json.loads(plan_file(_helpdesk(tmp_path, "2.16"), Format.JSON))
    by_key = {(p["data_type"], p["access"]): p for p in document["permissions"]}
    assert all(p["proves"] for p in document["permissions"])
    assert "(inference)" in by_key[("tickets", "write")]["proves"]
    assert "(proof" in by_key[("help_center", "read")]["proves"]
    assert by_key[("help_center", "read")]["labels_inferred"] is True
    assert by_key[("tickets", "write")]["labels_inferred"] is False
    text = plan_file(_helpdesk(tmp_path, "2.16"))
    assert text.count("what proves it:") == 4
    assert "which one gates it is inference" in text


def test_plan_says_why_events_write_is_unverifiable(tmp_path: Path) -> None:
    document = json.loads(plan_file(_helpdesk(tmp_path, "2.16"), Format.JSON))
    [events] = [p for p in document["permissions"] if p["data_type"] == "events"]
    assert events["requests"] == []
    assert "records an event" in events["unverifiable_because"]
    text = plan_file(_helpdesk(tmp_path, "2.16"))
    assert "no safe request proves it: the verdict would be unverifiable" in text
    assert "why: POST /events records an event" in text


def test_plan_shows_each_versions_own_probes(tmp_path: Path) -> None:
    targets = {}
    for version in ("2.15", "2.16"):
        document = json.loads(plan_file(_helpdesk(tmp_path, version), Format.JSON))
        [tickets] = [p for p in document["permissions"] if p["data_type"] == "tickets"]
        targets[version] = [(r["method"], r["target"]) for r in tickets["requests"]]
    assert targets == {"2.15": [("PUT", "/tickets/0")], "2.16": [("POST", "/tickets/0/linked_conversations")]}


def test_plan_names_the_extra_tickets_probe_and_the_unchecked_version(tmp_path: Path) -> None:
    checked = json.loads(plan_file(_helpdesk(tmp_path, "2.16"), Format.JSON))["notes"]
    assert len(checked) == 1 and "tickets_hidden_from_conversations" in checked[0]
    unchecked = json.loads(plan_file(_helpdesk(tmp_path, "2.17"), Format.JSON))["notes"]
    assert any("api_version_unchecked" in note and "2.15 and 2.16" in note for note in unchecked)
    text = plan_file(_helpdesk(tmp_path, "2.17"))
    assert "Also: Intercom-Version 2.17" in text and "POST /tickets/search" in text


def test_a_rule_on_the_route_miss_answer_is_shown_against_the_control(tmp_path: Path) -> None:
    path = tmp_path / "hc.yaml"
    path.write_text(HELPDESK.format(version="2.16").replace("help_center: [read]", "help_center: [write]"))
    document = json.loads(plan_file(path, Format.JSON))
    [help_center] = [p for p in document["permissions"] if p["data_type"] == "help_center"]
    [request] = help_center["requests"]
    assert [r["route_miss_possible"] for r in request["answers"]] == [True]
    assert "PUT" in [control["method"] for control in document["route_miss"]["controls"]]
