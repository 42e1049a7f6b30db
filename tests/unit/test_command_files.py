"""The files `login --save` and `init` write, through validator.files: modes, refusals and their messages."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from validator.errors import ExitCode
from validator.init.command import write_new_file
from validator.init.request import InitError
from validator.login.protocol import LoginError
from validator.login.token_file import save_token

TOKEN = "dG9rOjAwZmlsZXMtdGVzdC10b2tlbi1hYmNkZWYxMjM0NTY="


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.parametrize("replace", [False, True])
def test_the_token_file_is_0600_whatever_the_umask(tmp_path: Path, replace: bool) -> None:
    saved = tmp_path / "token"
    with _umask(0o000):
        save_token(saved, TOKEN, replace=replace)

    assert saved.read_text(encoding="utf-8") == TOKEN + "\n"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["token"]


def test_a_forced_save_replaces_a_regular_file_and_makes_it_0600(tmp_path: Path) -> None:
    saved = tmp_path / "token"
    saved.write_text("old\n")
    saved.chmod(0o644)

    save_token(saved, TOKEN, replace=True)

    assert saved.read_text(encoding="utf-8") == TOKEN + "\n"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["token"]


def test_a_save_refuses_an_existing_file_without_force(tmp_path: Path) -> None:
    saved = tmp_path / "token"
    saved.write_text("old\n")

    with pytest.raises(LoginError) as caught:
        save_token(saved, TOKEN, replace=False)

    assert (str(caught.value), caught.value.exit_code) == (
        f"--save {saved} already exists; pass --force to replace it",
        ExitCode.USAGE,
    )
    assert saved.read_text() == "old\n"


@pytest.mark.parametrize("replace", [False, True])
def test_a_save_refuses_a_link_and_never_follows_it(tmp_path: Path, replace: bool) -> None:
    elsewhere, link = tmp_path / "elsewhere", tmp_path / "token"
    link.symlink_to(elsewhere)

    with pytest.raises(LoginError) as caught:
        save_token(link, TOKEN, replace=replace)

    assert str(caught.value) == f"--save {link} is a symbolic link; refusing to write a token through it"
    assert not elsewhere.exists()


def test_a_save_refuses_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "token"
    os.mkfifo(fifo)

    with pytest.raises(LoginError) as caught:
        save_token(fifo, TOKEN, replace=True)

    assert str(caught.value) == f"--save {fifo} exists and is not a regular file"


def test_a_token_file_that_appears_during_the_login_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = tmp_path / "token"
    real_open = os.open

    def someone_else_first(path: object, flags: int, mode: int = 0o777) -> int:
        if Path(str(path)) == saved:
            saved.write_text("theirs\n")
        return real_open(path, flags, mode)  # type: ignore[arg-type]

    monkeypatch.setattr("validator.files.os.open", someone_else_first)
    with pytest.raises(LoginError) as caught:
        save_token(saved, TOKEN, replace=True)

    assert str(caught.value) == f"--save {saved} appeared while logging in; nothing was written"
    assert caught.value.exit_code == ExitCode.USAGE
    assert saved.read_text() == "theirs\n"


def test_init_writes_a_new_file_with_0644_minus_the_umask(tmp_path: Path) -> None:
    output = tmp_path / "connector.yaml"
    with _umask(0o027):
        write_new_file(output, "version: 1\n", replace=False)

    assert output.read_text(encoding="utf-8") == "version: 1\n"
    assert stat.S_IMODE(output.stat().st_mode) == 0o640


@pytest.mark.parametrize("existing", ["file", "dangling-link"])
def test_init_refuses_what_is_already_there_without_force(tmp_path: Path, existing: str) -> None:
    output, elsewhere = tmp_path / "connector.yaml", tmp_path / "elsewhere"
    if existing == "file":
        output.write_text("# mine\n")
    else:
        output.symlink_to(elsewhere)

    with pytest.raises(InitError) as caught:
        write_new_file(output, "version: 1\n", replace=False)

    assert (str(caught.value), caught.value.exit_code) == (
        f"{output} already exists; pass --force to replace it",
        ExitCode.USAGE,
    )
    assert not elsewhere.exists()
    if existing == "file":
        assert output.read_text() == "# mine\n"


def test_init_with_force_replaces_a_link_itself_with_a_0644_file(tmp_path: Path) -> None:
    real, output = tmp_path / "real.yaml", tmp_path / "connector.yaml"
    real.write_text("# theirs\n")
    output.symlink_to(real)

    with _umask(0o077):
        write_new_file(output, "version: 1\n", replace=True)

    assert not output.is_symlink()
    assert output.read_text() == "version: 1\n"
    assert stat.S_IMODE(output.stat().st_mode) == 0o644
    assert real.read_text() == "# theirs\n"


@pytest.mark.parametrize("replace", [False, True])
def test_init_into_a_missing_folder_is_one_line(tmp_path: Path, replace: bool) -> None:
    output = tmp_path / "absent" / "connector.yaml"

    with pytest.raises(InitError) as caught:
        write_new_file(output, "version: 1\n", replace=replace)

    assert str(caught.value) == f"cannot write {output}: No such file or directory"
    assert caught.value.exit_code == ExitCode.USAGE
