"""The request log masks every secret it knows, at a cost that does not grow with their number (issue 12)."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox.support import ACME, ACME_ADMIN, FULL, client_for, with_tokens
from validator.sandbox import Sandbox, SandboxRequest, TokenConfig, default_config
from validator.sandbox.log import MASK, Scrubber, _compiled
from validator.sandbox.permissions import ALL_LABELS

INNER = "sandbox-inner-secret-0007"
OUTER = f"outer-{INNER}-tail"


def _full(value: str) -> TokenConfig:
    return TokenConfig(value=value, workspace=ACME, admin=ACME_ADMIN, permissions=ALL_LABELS)


@pytest.mark.parametrize("order", ["inner first", "outer first"])
def test_a_secret_inside_another_is_masked_whole(order: str) -> None:
    tokens = (_full(INNER), _full(OUTER)) if order == "inner first" else (_full(OUTER), _full(INNER))
    sandbox = Sandbox(with_tokens(*tokens))
    with client_for(sandbox) as client:
        client.post("/tags", params={"q": OUTER}, json={"test": f"my {OUTER}!", "inner": INNER})
    [entry] = sandbox.log.entries
    assert entry.body == {"test": f"my {MASK}!", "inner": MASK}
    assert entry.query == {"q": (MASK,)}
    text = repr(sandbox.log.entries)
    assert "outer-" not in text and "-tail" not in text and INNER not in text


def test_overlapping_and_adjacent_secrets() -> None:
    scrub = Scrubber([["abcdef-1234", "1234-wxyz"], ["zz"]])
    assert scrub("<abcdef-1234-wxyz>") == f"<{MASK}>"  # two secrets sharing characters: one mask
    assert scrub("abcdef-1234abcdef-1234") == MASK * 2  # side by side: one mask each, as before
    assert scrub("1234-wxyz zz zzz") == f"{MASK} {MASK} {MASK}"  # "zz" twice in "zzz", overlapping
    assert scrub("nothing here") == "nothing here"
    assert Scrubber()("anything") == "anything"


def test_secrets_the_pattern_engine_cannot_take_are_still_masked() -> None:
    deep = ["a" * n for n in range(1, 3000, 97)]  # nested thousands deep: no regular expression for these
    assert _compiled(frozenset(deep)).__name__ == "each"  # the fallback: one search per secret
    scrub = Scrubber([deep, ["b" * 5000]])
    assert scrub("x" + "a" * 2911 + "x") == f"x{MASK}x"
    assert scrub("aba") == f"{MASK}b{MASK}"
    assert scrub("y" + "b" * 5000 + "y") == f"y{MASK}y"


def test_a_new_oauth_token_and_a_new_config_are_masked_from_the_next_request_on() -> None:
    sandbox = Sandbox()
    client_cfg = sandbox.config.oauth_clients[0]
    with client_for(sandbox, None) as anonymous:
        authorize = anonymous.get(
            "/oauth", params={"client_id": client_cfg.client_id, "redirect_uri": client_cfg.redirect_urls[0]}
        )
        code = parse_qs(urlsplit(authorize.headers["location"]).query)["code"][0]
        anonymous.post("/tags", json={"test": f"code {code}"})  # an unexchanged code is a secret
        exchanged = anonymous.post(
            "/auth/eagle/token",
            data={"code": code, "client_id": client_cfg.client_id, "client_secret": client_cfg.client_secret},
        ).json()["token"]
    with client_for(sandbox) as client:
        client.post("/tags", json={"test": f"issued {exchanged}"})
        sandbox.replace_config(with_tokens(_full("sandbox-added-later-0042")))
        client.post("/tags", json={"test": "added sandbox-added-later-0042"})
    bodies = [entry.body for entry in sandbox.log.entries if entry.path == "/tags"]
    assert bodies == [{"test": f"code {MASK}"}, {"test": f"issued {MASK}"}, {"test": f"added {MASK}"}]


def _many(count: int) -> Sandbox:
    tokens = tuple(_full(f"sandbox-many-{i:05d}-{i * 7919 % 100003:06d}") for i in range(count))
    return Sandbox(dataclasses.replace(default_config(), tokens=(*default_config().tokens, *tokens)))


def _handle_many(sandbox: Sandbox, pasted: str, requests: int = 50) -> None:
    request = SandboxRequest.build(
        "POST",
        f"/tags?q={pasted}",
        [("Authorization", f"Bearer {FULL}"), ("Content-Type", "application/json")],
        f'{{"test": "a longer value that mentions {pasted} once, somewhere in the middle"}}'.encode(),
    )
    for _ in range(requests):
        sandbox.handle(request)
    assert len(sandbox.log.entries) == requests
    sandbox.log.clear()


def test_many_tokens_are_all_masked_and_compiled_once_not_per_request() -> None:
    many = _many(5000)
    pasted = "sandbox-many-04321-" + f"{4321 * 7919 % 100003:06d}"
    with client_for(many) as client:
        client.post("/tags", params={"q": pasted}, json={"test": f"x{pasted}y"}, headers={"X-Echo": pasted})
    [entry] = many.log.entries
    assert (entry.body, entry.query, entry.headers["x-echo"]) == ({"test": f"x{MASK}y"}, {"q": (MASK,)}, MASK)
    many.log.clear()

    # The cost is measured by bench/sandbox_tokens.py, never timed here; what keeps it flat is that the
    # secrets are compiled once per configuration, not once per request.
    built = many._current_scrubber()
    misses = _compiled.cache_info().misses
    _handle_many(many, pasted)
    assert many._current_scrubber() is built
    assert _compiled.cache_info().misses == misses
