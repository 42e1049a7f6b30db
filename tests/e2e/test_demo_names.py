"""`demo` names the file it validates as a user would (issue 13 item 11): `./connector.yaml` in a checkout,
a short name elsewhere, never the path it is installed at."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness import EXAMPLE, REPO, run_cli

pytestmark = pytest.mark.e2e


def test_demo_in_a_checkout_validates_dot_slash_connector_yaml(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "connector.yaml")  # a checkout's top level holds the example
    run = run_cli("demo", cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert "Validating ./connector.yaml with a sandbox token" in run.stdout
    assert "connector-validator validate connector.yaml\n" in run.stdout
    assert "\nconnector.yaml (helpdesk-migration)\n" in run.stdout
    assert str(REPO) not in run.stdout


def test_demo_elsewhere_shows_a_short_name_not_the_installed_path(tmp_path: Path) -> None:
    run = run_cli("demo", cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert "\nexample/connector.yaml (helpdesk-migration)\n" in run.stdout
    # Neither the example's real location nor any absolute path into an installation is printed.
    assert str(EXAMPLE.parent) not in run.stdout and "site-packages" not in run.stdout
    assert all(len(line) <= 100 for line in run.stdout.splitlines() if "connector.yaml" in line)


def test_demo_beside_a_connector_yaml_of_ones_own_still_runs_the_example(tmp_path: Path) -> None:
    (tmp_path / "connector.yaml").write_text(
        EXAMPLE.read_text(encoding="utf-8").replace("tags: [read, write]", "tags: [read]"), encoding="utf-8"
    )
    run = run_cli("demo", cwd=tmp_path)
    assert run.code == 0, run.stderr  # the demo's own file, so its designed outcome (Write tags missing)
    assert "\nexample/connector.yaml (helpdesk-migration)\n" in run.stdout
