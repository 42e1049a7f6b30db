"""Every test that runs the CLI as a subprocess is marked `e2e`, so that `pytest -m "not e2e"` is a fast loop.

Read from the source, not run: a test module that spawns the CLI (`python -m validator`, `runpy` on the
package, or a helper of tests/ that does, such as `harness.run_cli` or the `slow_writes.py` script) needs
`pytestmark = pytest.mark.e2e`, or each test function that does it needs `@pytest.mark.e2e`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
SPAWNS_THE_CLI = re.compile(
    r"""["']-m["']\s*,\s*["']validator["']"""  # [sys.executable, "-m", "validator", ...]
    r"""|run_module\(\s*["']validator["']"""  # runpy.run_module("validator", ...) in a child
    r"""|\brun_cli\("""  # harness.run_cli(...)
)


def helpers_that_spawn() -> set[str]:
    """The modules of tests/ that are not tests and spawn the CLI, by name: who uses them spawns it too."""
    return {
        path.stem
        for path in TESTS.rglob("*.py")
        if not path.name.startswith("test_") and SPAWNS_THE_CLI.search(path.read_text(encoding="utf-8"))
    }


def spawns(source: str, helpers: set[str]) -> bool:
    return bool(SPAWNS_THE_CLI.search(source)) or any(re.search(rf"\b{name}\b", source) for name in helpers)


def is_e2e_marker(node: ast.expr) -> bool:
    return any(
        ast.unparse(item) == "pytest.mark.e2e" for item in ast.walk(node) if isinstance(item, ast.expr)
    )


def spawns_unmarked(source: str, helpers: set[str]) -> bool:
    """Whether a test module's `source` spawns the CLI anywhere but in a test function marked e2e, in a
    module that is not marked e2e as a whole."""
    if not spawns(source, helpers):
        return False
    tree = ast.parse(source)
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(target, ast.Name) and target.id == "pytestmark" for target in node.targets)
            and is_e2e_marker(node.value)
        ):
            return False
    rest = source
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and any(is_e2e_marker(d) for d in node.decorator_list):
            rest = rest.replace(ast.get_source_segment(source, node) or "", "")
    return spawns(rest, helpers)


def test_the_patterns_recognise_every_way_the_suite_spawns_the_cli() -> None:
    for source in (
        'subprocess.run([sys.executable, "-m", "validator", "lint"])',
        "args = [sys.executable, '-m', 'validator']",
        'runpy.run_module("validator", run_name="__main__")',
        'run = run_cli("validate", str(EXAMPLE))',
    ):
        assert SPAWNS_THE_CLI.search(source), source
    assert not SPAWNS_THE_CLI.search('subprocess.run([sys.executable, "-c", "import validator.lint"])')
    assert {"harness", "slow_writes"} <= helpers_that_spawn()


SPAWNING_TEST = 'def test_a() -> None:\n    run_cli("lint")\n'
MARKED_TEST = "@pytest.mark.e2e\n" + SPAWNING_TEST
HELPER = 'def lint() -> None:\n    subprocess.run([sys.executable, "-m", "validator", "lint"])\n'


@pytest.mark.parametrize(
    ("source", "unmarked"),
    [
        ("import pytest\n\n" + SPAWNING_TEST, True),
        ("import pytest\n\npytestmark = pytest.mark.e2e\n\n" + SPAWNING_TEST, False),
        ("import pytest\n\npytestmark = [pytest.mark.e2e, pytest.mark.slow]\n\n" + HELPER, False),
        ("import pytest\n\n" + MARKED_TEST, False),
        ("import pytest\n\n" + HELPER + "\n\n" + MARKED_TEST.replace("run_cli", "lint"), True),
        ("from harness import served\n\n\ndef test_b() -> None:\n    served()\n", True),
        ("import subprocess\n\n\ndef test_c() -> None:\n    subprocess.run(['git', 'status'])\n", False),
    ],
)
def test_a_module_that_spawns_the_cli_without_the_marker_is_found(source: str, unmarked: bool) -> None:
    assert spawns_unmarked(source, {"harness"}) is unmarked


MODULES = sorted(path for path in TESTS.rglob("test_*.py") if path != Path(__file__).resolve())


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.stem)
def test_every_module_that_spawns_the_cli_is_marked_e2e(path: Path) -> None:
    assert not spawns_unmarked(path.read_text(encoding="utf-8"), helpers_that_spawn()), (
        f"{path.relative_to(TESTS)} spawns the CLI: mark it with `pytestmark = pytest.mark.e2e` "
        "(or each test function that does with @pytest.mark.e2e)"
    )
