"""The GitHub Action, pre-commit hook and CI recipes are well-formed and keep the token off command lines."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def load(name: str) -> Any:
    return yaml.safe_load((REPO / name).read_text(encoding="utf-8"))


def test_the_action_is_a_composite_action_with_the_documented_inputs() -> None:
    action = load("action.yml")
    assert action["runs"]["using"] == "composite"
    assert {"paths", "token", "token-env", "reports", "api-url"} <= set(action["inputs"])
    assert "exit-code" in action["outputs"]


def test_the_action_never_puts_an_input_into_a_script_directly() -> None:
    """`${{ inputs.x }}` inside `run:` is expanded into the script text: a token would land in the log of the
    shell command, and any input could inject commands. Inputs go through `env:` only."""
    for step in load("action.yml")["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step.get("name")
    validate = next(step for step in load("action.yml")["runs"]["steps"] if step.get("id") == "validate")
    assert validate["env"]["TOKEN_VALUE"] == "${{ inputs.token }}"
    assert "connector-validator validate" in validate["run"] and "--format github" in validate["run"]


def test_the_pre_commit_hook_lints_connector_files_only() -> None:
    (hook,) = load(".pre-commit-hooks.yaml")
    assert hook["id"] == "connector-validator-lint" and hook["entry"] == "connector-validator lint"
    files = re.compile(hook["files"])
    assert files.search("connector.yaml") and files.search("customers/connector-acme.yml")
    assert not files.search("docker-compose.yaml") and not files.search("connectors/readme.md")


@pytest.mark.parametrize(
    "block", re.findall(r"```yaml\n(.*?)```", (REPO / "docs" / "ci.md").read_text(), re.S)
)
def test_every_yaml_recipe_in_the_ci_guide_parses(block: str) -> None:
    if block.lstrip().startswith("- run:") or block.startswith("      "):
        block = "steps:\n" + block  # a fragment of a job's steps
    assert yaml.safe_load(block) is not None


# --- install story: connector-validator is not on PyPI, so nothing may install that name from an index ---

TEXT_SUFFIXES = {".md", ".yml", ".yaml", ".toml", ".py", ".txt", ".cfg", ".ini", ".sh", ""}

# A command that fetches a package by name from an index (pip, pipx, uv, poetry, pdm, conda, ...).
INSTALLER = re.compile(
    r"(?:\bpip3?|\bpipx|\buv(?:\s+pip|\s+tool)?|\bpoetry|\bpdm|\bconda|\bmamba)\s+(?:install|add|run)\b"
    r"|\buvx\b|\bpipx\s+run\b"
)
# The bare project name as a requirement: the name, extras, a version specifier or a shell variable after it.
BARE_NAME = re.compile(r"^connector[-_.]?validator(\[[^\]]*\])?([=<>!~$].*)?$", re.I)
PINNED_VCS = re.compile(r"git\+https://[^\s@\"'`]+@(?:[0-9a-f]{40}|v\d+\.\d+\.\d+)(?![\w.-])")


def shipped_text_files() -> list[Path]:
    """The repository's files (tracked or new, not ignored), tests aside: they quote the forms they refuse."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split("\0")
    paths = [REPO / name for name in listed if name and not name.startswith("tests/")]
    return [path for path in paths if path.is_file() and path.suffix in TEXT_SUFFIXES]


def installs_the_bare_name(line: str) -> bool:
    """Whether a line runs an installer with connector-validator as a name to look up on an index (a direct
    reference, `connector-validator @ git+https://...`, names its source and is fine)."""
    for match in INSTALLER.finditer(line):
        command = re.split(r"`|&&|\|\||[;|#)]", line[match.end() :])[0]  # up to the end of this command
        words = [w.strip("\"'(") for w in command.split()]
        for i, word in enumerate(words):
            if BARE_NAME.match(word) and (i + 1 == len(words) or words[i + 1] != "@"):
                return True
    return False


@pytest.mark.parametrize(
    "line",
    [
        "pip install connector-validator",
        "      - run: pip install -U 'connector-validator==0.1.0'",
        '          python -m pip install --quiet "connector-validator$VERSION"',
        "    - pip3 install --user connector_validator[bench]",
        "pipx install connector-validator",
        "uv tool install connector-validator",
        "uvx connector-validator lint connector.yaml",
        "pipx run connector-validator validate",
    ],
)
def test_the_install_check_recognises_installing_the_name_from_an_index(line: str) -> None:
    assert installs_the_bare_name(line)


@pytest.mark.parametrize(
    "line",
    [
        "pip install .",
        'pip install "git+https://github.com/connector-validator/connector-validator@v0.1.0"',
        'python -m pip install --quiet --disable-pip-version-check "$target"',
        "pip install 'connector-validator @ git+https://github.com/o/r@" + "a" * 40 + "'",
        "pip install check-jsonschema",
        "connector-validator lint connector.yaml",
    ],
)
def test_the_install_check_lets_installs_from_the_repository_through(line: str) -> None:
    assert not installs_the_bare_name(line)


def test_nothing_tells_users_to_install_the_unpublished_name_from_an_index() -> None:
    """Nobody owns `connector-validator` on PyPI for this project: whoever registers it would receive every
    user's Intercom token. README, docs, the action and every other shipped file install from the repo."""
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in shipped_text_files()
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if installs_the_bare_name(line)
    ]
    assert {"README.md", "action.yml"} <= {p.relative_to(REPO).as_posix() for p in shipped_text_files()}
    assert not offenders, offenders


def test_every_vcs_install_in_the_shipped_files_is_pinned_to_a_commit_or_tag() -> None:
    loose = [
        f"{path.relative_to(REPO)}: {url}"
        for path in shipped_text_files()
        for url in re.findall(r"git\+https://[^\s\"'`]+", path.read_text(encoding="utf-8", errors="replace"))
        if not PINNED_VCS.fullmatch(url) and "OWNER/REPO" not in url
    ]
    assert not loose, loose


def test_the_docs_say_plainly_that_the_tool_is_not_on_pypi_and_show_a_pinned_install() -> None:
    for name in ("README.md", "docs/ci.md"):
        text = " ".join((REPO / name).read_text(encoding="utf-8").split())
        assert "not on PyPI yet" in text, name
        assert PINNED_VCS.search(text), name
        assert re.search(r"pip install \.\s", text), name  # from a clone


# --- the action installs from its own checkout ---


def install_step() -> dict[str, Any]:
    steps = load("action.yml")["runs"]["steps"]
    return next(step for step in steps if step.get("name") == "Install connector-validator")


def run_install_step(tmp_path: Path, **inputs: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Runs the action's install script with bash, the inputs in `env:` as the runner would, and a stand-in
    `python` that records its arguments instead of installing anything."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    calls = tmp_path / "calls"
    fake = bin_dir / "python"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {shlex.quote(str(calls))}\n')
    fake.chmod(0o755)
    step = install_step()
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "GITHUB_ACTION_PATH": str(tmp_path / "action")}
    for name, expression in step["env"].items():
        (input_name,) = re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", expression).groups()  # type: ignore[union-attr]
        env[name] = inputs.get(input_name, "")
    result = subprocess.run(
        ["bash", "-e", "-c", step["run"]], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=10
    )
    args = calls.read_text().splitlines() if calls.exists() else []
    return result, args


@pytest.mark.skipif(shutil.which("bash") is None, reason="the action's steps run with bash")
def test_the_action_installs_the_tool_from_its_own_checkout_by_default(tmp_path: Path) -> None:
    assert set(install_step()["env"]) == {"SOURCE", "VERSION"}
    result, args = run_install_step(tmp_path)
    assert result.returncode == 0, result.stderr
    assert args[:3] == ["-m", "pip", "install"] and args[-1] == str(tmp_path / "action")
    assert not any("connector-validator" in arg or "connector_validator" in arg for arg in args)


@pytest.mark.skipif(shutil.which("bash") is None, reason="the action's steps run with bash")
@pytest.mark.parametrize(
    "source",
    [
        "git+https://github.com/connector-validator/connector-validator@"
        + "0123456789abcdef" * 2
        + "0123abcd",
        "git+https://github.com/acme/connector-validator-fork@v1.2.3",
    ],
)
def test_the_action_installs_a_pinned_vcs_source(tmp_path: Path, source: str) -> None:
    result, args = run_install_step(tmp_path, source=source)
    assert result.returncode == 0, result.stderr
    assert args[-1] == source


@pytest.mark.skipif(shutil.which("bash") is None, reason="the action's steps run with bash")
def test_the_action_installs_a_directory_source_by_its_absolute_path(tmp_path: Path) -> None:
    (tmp_path / "connector-validator").mkdir()
    result, args = run_install_step(tmp_path, source="connector-validator")
    assert result.returncode == 0, result.stderr
    assert args[-1] == str(tmp_path / "connector-validator")  # a path, never a name pip would look up


@pytest.mark.skipif(shutil.which("bash") is None, reason="the action's steps run with bash")
@pytest.mark.parametrize(
    "source",
    [
        "connector-validator",
        "connector-validator==0.1.0",
        "git+https://github.com/connector-validator/connector-validator",
        "git+https://github.com/connector-validator/connector-validator@main",
        "git+https://github.com/connector-validator/connector-validator@v1",
        "git+https://github.com/o/r@" + "a" * 40 + " --index-url https://evil.example/simple",
        "git+https://user:secret@github.com/o/r@v1.2.3",
        "git+http://github.com/o/r@v1.2.3",
        "https://github.com/o/r/archive/main.tar.gz",
    ],
)
def test_the_action_refuses_a_source_that_is_not_pinned_or_is_a_name(tmp_path: Path, source: str) -> None:
    result, args = run_install_step(tmp_path, source=source)
    assert result.returncode == 2 and args == []
    assert result.stdout.startswith("::error title=connector-validator::the 'source' input must be")
    assert "secret" not in result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("bash") is None, reason="the action's steps run with bash")
def test_the_action_fails_loudly_on_the_removed_version_input(tmp_path: Path) -> None:
    """`version` used to install `connector-validator<version>` from PyPI; a workflow still setting it must
    not silently get something else, nor the squatted name."""
    result, args = run_install_step(tmp_path, version="==0.1.0")
    assert result.returncode == 2 and args == []
    assert result.stdout.startswith("::error title=connector-validator::the 'version' input is no longer")
    assert "PyPI" in load("action.yml")["inputs"]["version"]["description"]


# --- the pre-commit hook and the recipes agree on which files are connectors ---


def hook_files() -> re.Pattern[str]:
    (hook,) = load(".pre-commit-hooks.yaml")
    return re.compile(hook["files"])


@pytest.mark.parametrize(
    "path",
    [
        "connector.yaml",
        "connector.yml",
        "x/connector.yaml",
        "customers/connector-acme.yml",
        "connectors/acme.yaml",
        "connectors/acme.yml",
        "services/connectors/acme.yaml",
    ],
)
def test_the_pre_commit_hook_selects_connector_files(path: str) -> None:
    assert hook_files().search(path)


@pytest.mark.parametrize(
    "path",
    [
        ".github/workflows/ci.yml",
        ".gitlab-ci.yml",
        ".pre-commit-config.yaml",
        "docker-compose.yaml",
        "connectors/readme.md",
        "connectors/acme.json",
        "myconnectors/acme.yaml",
        "connector.yaml.bak",
    ],
)
def test_the_pre_commit_hook_leaves_other_files_alone(path: str) -> None:
    assert not hook_files().search(path)


def docs_yaml_blocks() -> list[tuple[str, str]]:
    return [
        (path.relative_to(REPO).as_posix(), block)
        for path in sorted((REPO / "docs").rglob("*.md"))
        for block in re.findall(r"```ya?ml\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
    ]


def recipe_connector_paths() -> list[tuple[str, str]]:
    """Every connector.yaml path or glob a docs recipe hands to the tool (command arguments, the action's
    `paths:`), with globs filled in as a user's file would be named."""
    found = []
    for path in sorted((REPO / "docs").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        for block in re.findall(r"```\w*\n(.*?)```", text, re.S):
            for line in block.splitlines():
                words: list[str] = []
                if re.search(r"connector-validator (?:validate|lint|plan)\b", line):
                    words = line.split("connector-validator", 1)[1].split()
                elif re.match(r"\s*paths:", line):
                    words = line.split(":", 1)[1].split("#")[0].split()
                for word in words:
                    if re.search(r"\.ya?ml$", word) and not word.startswith("-") and "=" not in word:
                        found.append((f"{path.relative_to(REPO)}: {line.strip()}", word.replace("*", "acme")))
    return found


def test_the_recipes_reference_connector_files() -> None:
    names = {name for _, name in recipe_connector_paths()}
    assert {"connector.yaml", "connectors/acme.yaml"} <= names  # the GitHub and the GitLab layouts


@pytest.mark.parametrize("where,path", recipe_connector_paths())
def test_every_connector_path_in_the_recipes_is_one_the_pre_commit_hook_checks(where: str, path: str) -> None:
    assert hook_files().search(path), where


def test_the_action_default_paths_are_checked_by_the_hook() -> None:
    for path in load("action.yml")["inputs"]["paths"]["default"].split():
        assert hook_files().search(path)


def test_the_docs_show_how_to_widen_the_hook_pattern() -> None:
    blocks = [block for _, block in docs_yaml_blocks() if re.search(r"^\s*files:", block, re.M)]
    assert blocks, "no recipe overrides the hook's files pattern"
    widened = re.compile(yaml.safe_load("steps:\n" + blocks[0])["steps"][0]["files"])
    assert widened.search("connectors/eu/acme.yaml") and widened.search("integrations/acme/intercom.yaml")
    assert widened.search("connector.yaml") and not widened.search(".github/workflows/ci.yml")


# --- the SARIF workflow's permissions, and pinned actions ---


def test_the_sarif_workflow_has_the_permissions_upload_sarif_needs() -> None:
    """upload-sarif needs `security-events: write`, plus `actions: read` (the run's status) and
    `contents: read` in private repositories, where unlisted permissions are `none`."""
    workflows = [yaml.safe_load(block) for _, block in docs_yaml_blocks() if "upload-sarif" in block]
    assert workflows
    for workflow in workflows:
        for job in workflow["jobs"].values():
            if any("upload-sarif" in step.get("uses", "") for step in job["steps"]):
                permissions = {**workflow.get("permissions", {}), **job.get("permissions", {})}
                assert permissions["security-events"] == "write"
                assert permissions["actions"] == "read"
                assert permissions["contents"] == "read"


PINNED_REF = re.compile(r"[0-9a-f]{40}|v\d+\.\d+\.\d+")


def uses_references() -> list[tuple[str, str]]:
    """Every `uses:` of the action's steps and of the YAML recipes in the README and the docs."""
    found = [("action.yml", step["uses"]) for step in load("action.yml")["runs"]["steps"] if "uses" in step]
    for path in [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]:
        for block in re.findall(r"```ya?ml\n(.*?)```", path.read_text(encoding="utf-8"), re.S):
            for ref in re.findall(r"^[\s-]*uses:\s*([^\s#]+)", block, re.M):
                found.append((path.relative_to(REPO).as_posix(), ref))
    return found


def test_the_recipes_and_the_action_use_actions() -> None:
    assert {where for where, _ in uses_references()} >= {"action.yml", "docs/ci.md"}


@pytest.mark.parametrize("where,ref", uses_references())
def test_every_action_is_pinned_by_commit_or_release_tag(where: str, ref: str) -> None:
    if ref.startswith("./"):
        return  # an action in the same repository: pinned by the checkout
    assert "@" in ref, (where, ref)
    assert PINNED_REF.fullmatch(ref.rsplit("@", 1)[1]), f"{where}: {ref} is not a commit SHA or vX.Y.Z tag"


def test_every_pre_commit_rev_in_the_docs_is_a_commit_or_release_tag() -> None:
    revs = [rev for _, block in docs_yaml_blocks() for rev in re.findall(r"^\s*rev:\s*(\S+)", block, re.M)]
    assert revs
    for rev in revs:
        assert PINNED_REF.fullmatch(rev), rev
