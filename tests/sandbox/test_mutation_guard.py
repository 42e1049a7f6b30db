"""The suite-wide guard in tests/conftest.py fails a test whose sandbox recorded a mutation."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"

INNER_TESTS = """
import httpx
import pytest
from validator.sandbox import Sandbox, SandboxTransport

def _post_tag(sandbox, body):
    transport = SandboxTransport(sandbox)
    with httpx.Client(transport=transport, base_url="https://api.intercom.io") as client:
        return client.post("/tags", json=body, headers={"Authorization": "Bearer sandbox-full-access-0001"})

def test_creates_a_tag(sandbox):
    assert _post_tag(sandbox, {"name": "oops"}).status_code == 200

@pytest.mark.allows_mutation
def test_creates_a_tag_on_purpose(sandbox):
    assert _post_tag(sandbox, {"name": "fine"}).status_code == 200

def test_probes_without_side_effects():
    assert _post_tag(Sandbox(), {"test": "invalid"}).status_code == 400
"""


def test_a_mutation_fails_the_test_unless_it_is_allowed(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*the sandbox recorded 1 mutation(s): POST /tags → 200*"])
    assert "sandbox-full-access-0001" not in result.stdout.str()
