"""Suite-wide fixtures: the sandbox that stands in for Intercom, and the guard against mutations.

Any test during which a Sandbox recorded a write that would have changed data fails, unless it is marked
`@pytest.mark.allows_mutation` (tests of the sandbox's own success answers). The validator must never
send such a request; this is how the suite notices if it does.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator

import pytest

from validator.sandbox import Sandbox, live_sandboxes
from validator.sandbox.server import ServedSandbox, serve


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "allows_mutation: the test may make the sandbox record writes that would change data"
    )


@pytest.fixture(autouse=True)
def _fail_on_sandbox_mutations(request: pytest.FixtureRequest) -> Iterator[None]:
    before: weakref.WeakKeyDictionary[Sandbox, int] = weakref.WeakKeyDictionary(
        (sandbox, len(sandbox.log.mutations)) for sandbox in live_sandboxes()
    )
    yield
    if request.node.get_closest_marker("allows_mutation"):
        return
    new = [entry for sandbox in live_sandboxes() for entry in sandbox.log.mutations[before.get(sandbox, 0) :]]
    if new:
        listed = "; ".join(f"{e.method} {e.path} → {e.status}" for e in new)
        pytest.fail(f"the sandbox recorded {len(new)} mutation(s): {listed}", pytrace=False)


@pytest.fixture
def sandbox() -> Sandbox:
    """An in-process sandbox with the default configuration (validator/sandbox/default.yaml)."""
    return Sandbox()


@pytest.fixture
def served_sandbox(sandbox: Sandbox) -> Iterator[ServedSandbox]:
    """The same sandbox served on 127.0.0.1 at an ephemeral port (`.base_url`, `.sandbox`)."""
    with serve(sandbox) as base_url:
        yield ServedSandbox(base_url=base_url, sandbox=sandbox)
