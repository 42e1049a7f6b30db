"""Reports as CI tools read them (issue 13): every connector.yaml problem at once, measured JUnit times,
what a rejected token left unchecked, and SARIF that code scanning files per connector set.

The CLI runs as a subprocess on real files; `run_cli` checks every side report against the official JUnit
and SARIF schemas and ours for JSON.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import EXAMPLE, REPO, run_cli, served

pytestmark = pytest.mark.e2e

MANY_PROBLEMS = REPO / "tests" / "data" / "specs" / "invalid" / "many-problems.yaml"
ALL_BUT_WRITE_TAGS = "sandbox-no-write-tags-0002"
REVOKED = "sandbox-revoked-0003"


def lint_problems(path: Path) -> list[dict[str, object]]:
    run = run_cli("lint", "--format", "json", str(path))
    assert run.code == 1, run.stderr
    problems: list[dict[str, object]] = json.loads(run.stdout)["files"][0]["problems"]
    return problems


def test_validate_reports_every_problem_lint_reports_in_every_format(tmp_path: Path) -> None:
    spec = tmp_path / "connector.yaml"
    spec.write_bytes(MANY_PROBLEMS.read_bytes())
    expected = lint_problems(spec)
    assert len(expected) == 7

    run = run_cli("validate", str(spec), "--format", "text")
    assert run.code == 2

    [connector] = json.loads(run.reports["json"])["connectors"]
    assert connector["problems"] == expected
    assert connector["error"].startswith(f"{spec}:{expected[0]['line']}:{expected[0]['col']}: ")

    places = [(problem["line"], problem["col"]) for problem in expected]
    text_errors = [line for line in run.stdout.splitlines() if line.startswith("error: ")]
    assert text_errors == [
        f"error: {spec}:{p['line']}:{p['col']}: {p['message']} ({p['json_path']})" for p in expected
    ]

    sarif = json.loads(run.reports["sarif"])["runs"][0]["results"]
    assert [(r["ruleId"], r["message"]["text"]) for r in sarif] == [
        ("connector-invalid", f"{p['message']} ({p['json_path']})") for p in expected
    ]
    regions = [r["locations"][0]["physicalLocation"]["region"] for r in sarif]
    assert [(region["startLine"], region["startColumn"]) for region in regions] == places

    annotations = [line for line in run.reports["github"].splitlines() if line.startswith("::error ")]
    assert [re.search(r"line=(\d+),col=(\d+)", line).groups() for line in annotations] == [  # type: ignore[union-attr]
        (str(line), str(col)) for line, col in places
    ]
    for annotation in annotations:
        message = annotation.split("::", 2)[2]
        assert not re.search(r"\.yaml:\d+:\d+:", message), message  # the place is in the properties only
        assert str(spec) not in message

    suite = ET.fromstring(run.reports["junit"])[0]
    assert [case.get("name") for case in suite.iter("testcase")] == [p["json_path"] for p in expected]
    assert suite.get("errors") == str(len(expected))

    items = [line for line in run.reports["markdown"].splitlines() if line.startswith("- line ")]
    assert [re.match(r"- line (\d+), column (\d+):", item).groups() for item in items] == [  # type: ignore[union-attr]
        (str(line), str(col)) for line, col in places
    ]


def test_junit_times_are_measured_and_junit2html_report_matrix_reads_them(tmp_path: Path) -> None:
    with served() as world:
        run = run_cli(
            "validate",
            str(EXAMPLE),
            env={"INTERCOM_ACCESS_TOKEN": ALL_BUT_WRITE_TAGS, "INTERCOM_API_URL": world.base_url},
        )
    assert run.code == 1
    suite = ET.fromstring(run.reports["junit"])[0]
    assert float(suite.get("time", "0")) > 0
    times = {case.get("name"): float(case.get("time", "0")) for case in suite.iter("testcase")}
    # Every check that sent a request took time; the workspace is read from the answer to /me.
    assert times.pop("workspace") == 0
    assert times and all(seconds > 0 for seconds in times.values()), times
    assert max(times.values()) <= float(suite.get("time", "0"))

    if importlib.util.find_spec("junit2htmlreport") is None:
        pytest.skip("junit2html is not installed (pip install junit2html)")
    report = tmp_path / "junit.xml"
    report.write_text(run.reports["junit"], encoding="utf-8")
    matrix = tmp_path / "matrix.html"
    completed = subprocess.run(
        [sys.executable, "-m", "junit2htmlreport", "--report-matrix", str(matrix), str(report)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr and matrix.stat().st_size > 0


def test_a_rejected_token_still_lists_every_declared_permission_as_skipped() -> None:
    with served() as world:
        run = run_cli(
            "validate",
            str(EXAMPLE),
            env={"INTERCOM_ACCESS_TOKEN": REVOKED, "INTERCOM_API_URL": world.base_url},
        )
        sent = world.paths_sent()
    assert run.code == 3
    assert sent == ["GET /me"]  # nothing but /me was asked: the skipped cases are not made up by probing
    declared = [
        f"{data_type}:{access}" for data_type, levels in _declared(EXAMPLE).items() for access in levels
    ]
    suite = ET.fromstring(run.reports["junit"])[0]
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == ["token", "workspace", *declared]
    for name in declared:
        [skipped] = list(cases[name])
        assert skipped.tag == "skipped"
        assert skipped.get("message") == "not checked: Intercom rejected the token"
    assert suite.get("skipped") == str(len(declared) + 1)
    assert float(cases["token"].get("time", "0")) > 0


def _declared(path: Path) -> dict[str, list[str]]:
    import yaml

    permissions: dict[str, list[str]] = yaml.safe_load(path.read_text(encoding="utf-8"))["permissions"]
    return permissions


def test_sarif_names_a_colon_file_relatively_and_files_each_connector_set_apart(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "a:b.yaml")
    shutil.copy(EXAMPLE, tmp_path / "other.yaml")

    def sarif_of(*names: str) -> dict[str, object]:
        with served() as world:
            run = run_cli(
                "validate",
                *names,
                env={"INTERCOM_ACCESS_TOKEN": ALL_BUT_WRITE_TAGS, "INTERCOM_API_URL": world.base_url},
                cwd=tmp_path,
            )
        assert run.code == 1, run.stderr
        sarif: dict[str, object] = json.loads(run.reports["sarif"])["runs"][0]
        return sarif

    colon = sarif_of("a:b.yaml")
    artifact = colon["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]  # type: ignore[index]
    assert artifact == {"uri": "a%3Ab.yaml", "uriBaseId": "%SRCROOT%"}
    assert colon["tool"]["driver"]["fullName"].startswith("connector-validator ")  # type: ignore[index]

    again = sarif_of("a:b.yaml")
    other = sarif_of("other.yaml")
    both = sarif_of("other.yaml", "a:b.yaml")
    ids = [run["automationDetails"]["id"] for run in (colon, again, other, both)]  # type: ignore[index]
    assert ids[0] == ids[1]  # a rerun over the same file replaces the previous analysis
    assert len({ids[0], ids[2], ids[3]}) == 3  # different connector sets never overwrite each other


def test_sarif_gives_an_unreadable_file_a_region(tmp_path: Path) -> None:
    run = run_cli("validate", "missing.yaml", cwd=tmp_path)
    assert run.code == 2
    [result] = json.loads(run.reports["sarif"])["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "missing.yaml"
    assert location["region"] == {"startLine": 1, "startColumn": 1}
    assert result["message"]["text"].startswith("cannot read: ")
