"""The probe catalog against Intercom's OpenAPI description: every probe is a real, documented request.

`GET /counts` is the one documented exception: a legacy endpoint that appears in no 2.x description
(API-NOTES §5); the catalog reads a 400 `intercom_version_invalid` or a 404 there as `unverifiable`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract.openapi_spec import VERSIONS, find_operation, load_description
from validator.catalog import ControlRequest, Probe, load_catalog
from validator.model import Verdict

CATALOG = load_catalog()
DEFAULT_API_VERSION = CATALOG.default_api_version
LEGACY_ENDPOINTS = {("GET", "/counts")}


def test_the_pinned_version_is_one_the_contract_tests_cover() -> None:
    assert DEFAULT_API_VERSION in VERSIONS


# Every probe with every version it is sent with (a probe with `versions` only with those).
SENT = [
    (probe, version) for probe in CATALOG.all_probes() for version in VERSIONS if probe.sent_with(version)
]


def _sent_id(value: object) -> str:
    return f"{value.method} {value.path}" if isinstance(value, Probe) else str(value)


def test_the_contract_tests_cover_every_checked_version() -> None:
    assert set(CATALOG.checked_api_versions) == set(VERSIONS)


@pytest.mark.parametrize(("probe", "version"), SENT, ids=_sent_id)
def test_every_probe_is_an_operation_of_the_description(probe: Probe, version: str) -> None:
    method, path = probe.method, probe.path
    if (method, path) in LEGACY_ENDPOINTS:
        assert find_operation(load_description(version), method, path) is None, "no longer legacy?"
        return
    assert find_operation(load_description(version), method, path) is not None


@pytest.mark.parametrize(("probe", "version"), SENT, ids=_sent_id)
def test_every_status_a_probe_grants_on_is_documented_for_its_route(probe: Probe, version: str) -> None:
    """A grant may only rest on an answer Intercom documents for that very route, in that version."""
    method, path = probe.method, probe.path
    if (method, path) in LEGACY_ENDPOINTS:
        return
    found = find_operation(load_description(version), method, path)
    assert found is not None
    _, operation = found
    documented = {int(status) for status in operation["responses"] if status.isdigit()}
    for rule in probe.answers:
        if rule.verdict is Verdict.GRANTED:
            assert rule.status in documented, f"{method} {path} grants on undocumented {rule.status}"


# The probes restricted to 2.16 because 2.15's description lacks their operation (API-NOTES §8).
ONLY_IN_2_16 = {
    ("POST", "/tickets/0/linked_conversations"),
    ("POST", "/articles/0/tags"),
    ("POST", "/companies/000000000000000000000000/notes"),
}


def test_the_version_restricted_probes_are_absent_where_they_are_not_sent() -> None:
    restricted = {(p.method, p.path) for p in CATALOG.all_probes() if p.versions == ("2.16",)}
    assert restricted >= ONLY_IN_2_16
    for method, path in ONLY_IN_2_16:
        assert find_operation(load_description("2.15"), method, path) is None, f"{method} {path} is in 2.15"


@pytest.mark.parametrize("version", VERSIONS)
def test_every_permission_with_probes_keeps_some_in_every_checked_version(version: str) -> None:
    """Restricting probes to versions never leaves a permission without a probe in one of them."""
    for permission, entry in CATALOG.permissions.items():
        if entry.probes:
            kept = CATALOG.probes_for(permission, version)
            assert kept is not None and kept.probes, f"{permission} has no probe for {version}"


def test_an_unchecked_version_gets_the_default_versions_probes() -> None:
    for permission in CATALOG.permissions:
        for unchecked in ("2.17", "Preview"):
            assert CATALOG.probes_for(permission, unchecked) == CATALOG.probes_for(
                permission, DEFAULT_API_VERSION
            )


def test_the_identity_check_is_documented() -> None:
    for version in VERSIONS:
        identity = CATALOG.identity
        assert find_operation(load_description(version), identity.method, identity.path) is not None


def test_a_description_without_a_route_is_caught() -> None:
    """The check above can fail: a made-up probe path finds no operation."""
    assert find_operation(load_description("2.15"), "PUT", "/no_such_resource/0") is None


FULL_DESCRIPTIONS = Path(__file__).resolve().parents[2].parent / "shared" / "intercom" / "openapi"


@functools.cache
def _full_description(version: str) -> dict[str, Any]:
    with (FULL_DESCRIPTIONS / version / "api.intercom.io.yaml").open("rb") as f:
        loaded: dict[str, Any] = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return loaded


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "control", list(CATALOG.route_miss.controls.values()), ids=lambda control: control.method
)
def test_every_route_miss_control_is_a_path_no_version_serves(version: str, control: ControlRequest) -> None:
    """Issue 10 item 4: the control's answer is the route-miss fingerprint only if nothing serves it, in
    the full description (not only the trimmed copy), with any method."""
    descriptions = [load_description(version)]
    if (FULL_DESCRIPTIONS / version).is_dir():
        descriptions.append(_full_description(version))
    for description in descriptions:
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            assert find_operation(description, method, control.path) is None, (method, control.path)
    # ...and the check can fail: a served path is found in the same description.
    assert find_operation(descriptions[-1], "PUT", "/companies/0") is not None
