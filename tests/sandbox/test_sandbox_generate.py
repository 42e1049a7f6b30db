"""Worlds generated from a seed (`generate:`), the installs that match them, and faults for one workspace."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from sandbox.support import AU_FULL, FULL, client_for
from validator.sandbox import FaultConfig, FaultKind, Sandbox, SandboxConfigError
from validator.sandbox.cli_entry import print_installs
from validator.sandbox.config import SandboxConfig, load_config
from validator.sandbox.generate import installs, installs_jsonl
from validator.sandbox.permissions import ALL_LABELS, Label
from validator.tokens import token_problem


def test_the_same_seed_gives_the_same_world_and_another_seed_another() -> None:
    def world(seed: int) -> list[tuple[str, str]]:
        config = SandboxConfig.from_dict({"generate": {"seed": seed, "workspaces": 50}})
        return [(token.workspace, token.value) for token in config.tokens]

    assert world(7) == world(7)
    assert world(7) != world(8)
    assert len({value for _, value in world(7)}) == 50
    assert len({workspace for workspace, _ in world(7)}) == 50


def test_generated_tokens_take_the_label_sets_in_turn_and_pass_the_tools_token_check() -> None:
    config = SandboxConfig.from_dict(
        {
            "generate": {
                "workspaces": 3,
                "tokens_per_workspace": 2,
                "label_sets": ["all", ["Read tags"], "none"],
                "regions": ["EU", "au"],
            }
        }
    )
    assert [token.permissions for token in config.tokens] == [
        ALL_LABELS,
        frozenset({Label.READ_TAGS}),
        frozenset(),
        ALL_LABELS,
        frozenset({Label.READ_TAGS}),
        frozenset(),
    ]
    assert [str(workspace.region) for workspace in config.workspaces] == ["EU", "AU", "EU"]
    assert all(token_problem(token.value) is None for token in config.tokens)


def test_generated_workspaces_come_after_the_listed_ones_and_answer_me() -> None:
    config = SandboxConfig.from_dict(
        {
            "workspaces": [
                {"id_code": "w1", "name": "Listed", "admins": [{"id": "1", "name": "A", "email": "a@x"}]}
            ],
            "generate": {"workspaces": 2},
        }
    )
    assert config.workspaces[0].id_code == "w1"
    generated = config.tokens[1]
    with client_for(Sandbox(config), generated.value) as client:
        me = client.get("/me").json()
    assert me["app"]["id_code"] == generated.workspace


def test_installs_match_every_active_token_of_the_config(tmp_path: Path) -> None:
    path = tmp_path / "world.yaml"
    path.write_text("generate: {seed: 3, workspaces: 4}\n", encoding="utf-8")
    config = load_config(path)
    out = io.StringIO()
    print_installs(path, out)
    lines = [json.loads(text) for text in out.getvalue().splitlines()]
    assert lines == list(installs(config))
    assert out.getvalue() == installs_jsonl(config)
    assert [(item["workspace_id"], item["token"]) for item in lines] == [
        (token.workspace, token.value) for token in config.tokens
    ]
    assert {item["region"] for item in lines} == {"us"}


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("{workspaces: 0}", r"generate\.workspaces"),
        ("{seed: 1}", r"generate: missing required key 'workspaces'"),
        (
            "{workspaces: 2, label_sets: [[Read everything]]}",
            r"'Read everything' is not a Developer Hub label",
        ),
        ("{workspaces: 2, colour: blue}", r"generate: unknown key 'colour'"),
    ],
)
def test_a_generate_block_that_cannot_be_used_is_refused_with_its_place(
    tmp_path: Path, block: str, message: str
) -> None:
    path = tmp_path / "world.yaml"
    path.write_text(f"generate: {block}\n", encoding="utf-8")
    with pytest.raises(SandboxConfigError, match=message):
        load_config(path)


def test_a_config_without_workspaces_or_generate_is_still_refused() -> None:
    with pytest.raises(SandboxConfigError, match=r"missing required key 'workspaces'"):
        SandboxConfig.from_dict({"tokens": []})


def test_a_fault_limited_to_a_workspace_hits_only_its_tokens() -> None:
    sandbox = Sandbox()
    sandbox.add_fault(FaultConfig(route="*", kind=FaultKind.STATUS, status=503, workspace="au56wksp"))
    with client_for(sandbox, AU_FULL) as australia, client_for(sandbox, FULL) as acme:
        assert australia.get("/me").status_code == 503
        assert acme.get("/me").status_code == 200
    with client_for(sandbox, "not-a-known-token-at-all") as stranger:
        assert stranger.get("/me").status_code == 401  # no workspace: the fault does not apply


def test_a_fault_workspace_is_read_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(
        "generate: {workspaces: 1}\nfaults: [{route: '*', kind: status, workspace: gw00000x}]\n",
        encoding="utf-8",
    )
    assert load_config(path).faults[0].workspace == "gw00000x"
