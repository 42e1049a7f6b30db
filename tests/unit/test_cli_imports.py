"""The CLI sits on top: nothing imports it back, its command modules import only what is below them, and
`--version` loads no command's core."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

VALIDATOR = Path(__file__).resolve().parents[2] / "validator"


def _imported(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_module_below_the_cli_imports_it() -> None:
    for path in VALIDATOR.rglob("*.py"):
        if path.parent == VALIDATOR / "cli" or path.name == "__main__.py":
            continue
        assert not {name for name in _imported(path) if name.startswith("validator.cli")}, path


def test_command_modules_do_not_import_the_cli_package_back() -> None:
    """`validator.cli` registers the commands; a command module importing it would make a cycle."""
    for path in (VALIDATOR / "cli").glob("*.py"):
        if path.name == "__init__.py":
            continue
        cli_imports = {name for name in _imported(path) if name.startswith("validator.cli")}
        assert all(name.startswith("validator.cli.options") for name in cli_imports), path


def test_version_loads_no_core_module() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['connector-validator', '--version']\n"
        "from validator.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('httpx', 'jsonschema', 'yaml', 'validator.run', 'validator.login', 'validator.init',\n"
        "         'validator.validate', 'validator.checker', 'validator.intercom', 'validator.spec',\n"
        "         'validator.catalog', 'validator.sandbox')\n"
        "print(sorted(name for name in sys.modules if name.startswith(heavy)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("connector-validator ")
    assert done.stderr.strip() == "[]"
