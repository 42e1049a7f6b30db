"""Worlds generated from a seed: thousands of workspaces and tokens for fleet tests and benchmarks.

A config's `generate:` block (see config.schema.json) stands for `workspaces` workspaces with
`tokens_per_workspace` tokens each; the same seed always gives the same ids and token values, so a test or
benchmark can recompute the installs it serves (`installs`). Token `k` (counted over all generated tokens)
grants `label_sets[k % len(label_sets)]`. Generated values are obviously fake and only ever accepted by the
sandbox.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class GenerateConfig:
    """A world generated from a seed (`validator.sandbox.generate`), added to the listed workspaces and
    tokens."""

    workspaces: int
    seed: int = 12
    tokens_per_workspace: int = 1
    label_sets: tuple[Any, ...] = ("all",)  # each as tokens[].permissions: "all", "none" or labels
    regions: tuple[str, ...] = ("US",)
    id_prefix: str = "gw"


class World(Protocol):
    """What `installs` reads of a `SandboxConfig` (not imported here: the config module imports this one)."""

    @property
    def tokens(self) -> Sequence[Any]: ...

    def workspace(self, id_code: str) -> Any: ...


def generated(block: GenerateConfig) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The workspaces and tokens a `generate:` block stands for, as config data (checked as listed ones)."""
    rng = random.Random(block.seed)
    count, per_workspace, prefix = block.workspaces, block.tokens_per_workspace, block.id_prefix
    label_sets, regions = block.label_sets, block.regions
    workspaces: list[dict[str, Any]] = []
    tokens: list[dict[str, Any]] = []
    for i in range(count):
        workspace_id = f"{prefix}{i:05d}{rng.getrandbits(24):06x}"
        admin = str(700_000_000 + i)
        workspaces.append(
            {
                "id_code": workspace_id,
                "name": f"Generated workspace {i}",
                "region": regions[i % len(regions)],
                "admins": [{"id": admin, "name": f"Admin {i}", "email": f"admin{i}@generated.test"}],
            }
        )
        for j in range(per_workspace):
            k = len(tokens)
            tokens.append(
                {
                    "name": f"generated {i}.{j}",
                    "value": f"gen-{i:05d}-{j:02d}-{rng.getrandbits(128):032x}",
                    "workspace": workspace_id,
                    "admin": admin,
                    "permissions": label_sets[k % len(label_sets)],
                }
            )
    return workspaces, tokens


def installs(config: World) -> Iterator[dict[str, str]]:
    """One fleet install per active token of a `SandboxConfig` (configured and generated, in order):
    `{"workspace_id", "token", "region", "label"}`, the lines `connector-validator fleet --installs` reads."""
    for token in config.tokens:
        if token.status != "active":
            continue
        workspace = config.workspace(token.workspace)
        region = str(workspace.region).lower() if workspace is not None else "us"
        yield {
            "workspace_id": token.workspace,
            "token": token.value,
            "region": region,
            "label": token.name or token.workspace,
        }


def installs_jsonl(config: World) -> str:
    """`installs(config)` as JSON Lines."""
    return "".join(json.dumps(install) + "\n" for install in installs(config))
