"""`run`, the function behind `connector-validator sandbox`."""

from __future__ import annotations

import io
import re
import threading
import time
from pathlib import Path

import httpx
import pytest

from validator.sandbox import SandboxConfigError
from validator.sandbox.cli_entry import run


def test_run_prints_the_url_and_tokens_and_serves_until_stopped() -> None:
    out, stop = io.StringIO(), threading.Event()
    thread = threading.Thread(target=run, args=(None, 0, out), kwargs={"stop": stop}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while "Ctrl-C" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    text = out.getvalue()
    base_url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", text)
    assert base_url, text
    assert "sandbox-full-access-0001" in text and "sandbox-no-write-tags-0002" in text
    assert "sandbox-revoked-0003" not in text  # it is not accepted
    assert "grants: all permissions" in text
    assert f"INTERCOM_API_URL={base_url.group(1)}" in text
    me = httpx.get(f"{base_url.group(1)}/me", headers={"Authorization": "Bearer sandbox-eu-full-access-0004"})
    assert me.json()["app"]["region"] == "EU"
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_a_bad_config_file_raises_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("workspaces: []\n")
    with pytest.raises(
        SandboxConfigError, match=r"broken\.yaml:1:1: workspaces: at least one workspace is needed$"
    ):
        run(path, 0, io.StringIO())
