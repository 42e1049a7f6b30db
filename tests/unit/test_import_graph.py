"""The package depends in one direction: domain values at the bottom, commands on top, no import cycle.

Every module of `validator/` is parsed (not imported) and each of its imports read: absolute and relative,
at module level, inside functions and under `TYPE_CHECKING` alike, since each is a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "validator"

# Bottom to top: a module imports only from its own layer or a lower one. A name stands for that module
# and, when it is a package, everything in it.
LAYERS: tuple[tuple[str, ...], ...] = (
    # 0. domain values and the small tools every layer may use
    (
        "validator",
        "validator.model",
        "validator.errors",
        "validator.tokens",
        "validator.files",
        "validator.terminal",
    ),
    # 1. reading: the YAML loader, the schemas, connector.yaml, the probe catalog; the report's values
    ("validator.schemas", "validator.spec", "validator.catalog", "validator.report", "validator.baseline"),
    # 2. checking: the HTTP client, the checker, lint's and plan's results
    (
        "validator.pacing",
        "validator.network_errors",
        "validator.sharing",
        "validator.connections",
        "validator.intercom",
        "validator.checker",
        "validator.lint",
        "validator.plan",
    ),
    # 3. advice and findings (in the catalog's words), and the validate pipeline that applies advice
    ("validator.advice", "validator.policy", "validator.findings", "validator.validate"),
    # 4. formats: pure functions of what they render
    ("validator.formats",),
    # 5. commands
    ("validator.run", "validator.init", "validator.login", "validator.demo", "validator.fleet"),
    # 6. the command line
    ("validator.cli", "validator.__main__"),
)
# The sandbox stands in for Intercom on its own: it may use the bottom layer, and nothing else of the tool.
SANDBOX = "validator.sandbox"
SANDBOX_MAY_USE = ("validator.model", "validator.spec.yamlnodes", "validator.errors", "validator.files")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_by(module: str) -> set[str]:
    """The modules of the package that `module` imports, wherever in the module the import is."""
    path = MODULES[module]
    return imports_in(path.read_text(encoding="utf-8"), module, is_package=path.name == "__init__.py")


def imports_in(source: str, module: str, *, is_package: bool = False) -> set[str]:
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:  # `from validator import lint` imports the module validator.lint
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: imported_by(module) for module in MODULES}


def layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (length of the matching name, layer): the longest name wins
    for index, names in enumerate(LAYERS):
        for name in names:
            inside = module == name or (name != "validator" and module.startswith(name + "."))
            if inside and (best is None or len(name) > best[0]):
                best = (len(name), index)
    return None if best is None else best[1]


def cycles() -> Iterator[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in sorted(GRAPH[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    yield from found


def test_the_walk_sees_every_kind_of_import() -> None:
    source = """
from __future__ import annotations
import validator.model
from typing import TYPE_CHECKING
from . import advice
from .catalog import load_catalog

if TYPE_CHECKING:
    from validator.lint import LintResult

def later() -> None:
    from validator import plan, files
    import validator.formats.text
"""
    assert imports_in(source, "validator.findings") == {
        "validator.model",
        "validator.advice",
        "validator.catalog",
        "validator.lint",
        "validator.plan",
        "validator.files",
        "validator.formats.text",
    }
    assert imports_in("from . import wire\nfrom .. import model", "validator.sandbox", is_package=True) == {
        "validator.sandbox.wire",
        "validator.model",
    }
    assert imports_in("from ..findings import Rule\nfrom . import markdown", "validator.formats.github") == {
        "validator.findings",
        "validator.formats.markdown",
    }


def test_the_graph_holds_the_imports_inside_functions_and_for_type_checking() -> None:
    assert "validator.lint" in GRAPH["validator.cli.check"]  # inside the `lint` command
    assert "validator.lint" in GRAPH["validator.formats"]  # under TYPE_CHECKING
    assert "validator.checker" in GRAPH["validator.init.probe"]  # inside a function
    assert len(MODULES) > 40


def test_there_is_no_import_cycle() -> None:
    found = list(cycles())
    assert found == [], "import cycles: " + "; ".join(" ↔ ".join(group) for group in found)


def test_every_module_has_a_layer() -> None:
    unplaced = [m for m in MODULES if layer_of(m) is None and not m.startswith(SANDBOX)]
    assert unplaced == [], f"add these to LAYERS in {Path(__file__).name}: {unplaced}"


def test_every_import_goes_down_or_across_never_up() -> None:
    upward = [
        f"{module} (layer {layer_of(module)}) imports {other} (layer {layer_of(other)})"
        for module, imports in sorted(GRAPH.items())
        if not module.startswith(SANDBOX)
        for other in sorted(imports)
        if not other.startswith(SANDBOX) and (layer_of(other) or 0) > (layer_of(module) or 0)
    ]
    assert upward == []


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("validator.catalog", "validator.report"),
        ("validator.catalog", "validator.checker"),
        ("validator.checker", "validator.advice"),
        ("validator.checker", "validator.findings"),
        ("validator.report", "validator.formats"),
        ("validator.lint", "validator.formats"),
        ("validator.plan", "validator.formats"),
        ("validator.formats", "validator.run"),
        ("validator.formats", "validator.cli"),
        ("validator.formats", "validator.validate"),
    ],
)
def test_a_lower_module_does_not_reach_up(lower: str, upper: str) -> None:
    reached = [
        f"{module} → {other}"
        for module, imports in GRAPH.items()
        if module == lower or module.startswith(lower + ".")
        for other in imports
        if other == upper or other.startswith(upper + ".")
    ]
    assert reached == []


def test_the_domain_values_import_nothing_of_the_tool() -> None:
    assert GRAPH["validator.model"] == set()
    assert GRAPH["validator.errors"] == set()


def test_formats_do_not_import_each_other() -> None:
    crossing = [
        f"{module} → {other}"
        for module, imports in GRAPH.items()
        if module.startswith("validator.formats.")
        for other in imports
        if other.startswith("validator.formats")
    ]
    assert crossing == []  # shared wording is in validator.findings; the step summary goes through the table


def test_the_sandbox_stands_apart_from_the_catalog_and_the_checks() -> None:
    used = {
        other
        for module, imports in GRAPH.items()
        if module.startswith(SANDBOX)
        for other in imports
        if not other.startswith(SANDBOX)
    }
    assert used <= set(SANDBOX_MAY_USE), sorted(used - set(SANDBOX_MAY_USE))
