"""The vendored descriptions are exactly what `scripts/vendor_openapi.py` produces from ../shared."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from contract.openapi_spec import OPENAPI_DIR, VERSIONS, load_description

REPO_ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "vendor_openapi", REPO_ROOT / "scripts" / "vendor_openapi.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("version", VERSIONS)
def test_vendored_description_matches_the_script_output(version: str) -> None:
    script = _script()
    if not (script.DEFAULT_SOURCE / version).is_dir():
        pytest.skip(f"{script.DEFAULT_SOURCE} is not available in this checkout")
    expected = script.render(script.trim(script.load_source(script.DEFAULT_SOURCE, version)))
    assert (OPENAPI_DIR / f"{version}.json").read_text(encoding="utf-8") == expected


def test_intercoms_licence_sits_beside_the_vendored_files() -> None:
    licence = (OPENAPI_DIR / "LICENSE.md").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Copyright (c) 2022 Intercom, Inc." in licence


@pytest.mark.parametrize("version", VERSIONS)
def test_vendored_description_claims_its_version(version: str) -> None:
    assert load_description(version)["info"]["version"] == version
