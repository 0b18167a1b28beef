"""Token rotation: the token file is re-read when it changes, when it is old, and after a 401."""

from __future__ import annotations

import asyncio
import datetime
import os
import time
from pathlib import Path

import pytest

from staticsite.machinery.client import make_configuration
from staticsite.machinery.credentials import ClusterAccess
from staticsite.machinery.errors import ConfigurationError
from staticsite.machinery.tokens import FileToken, StaticToken

MINUTE = datetime.timedelta(seconds=60)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def kubelet_write(folder: Path, token: str) -> None:
    """Swap the token in as the kubelet does: a new timestamped folder, then a `..data` rename."""
    stamp = folder / f"..{time.time_ns()}"
    stamp.mkdir()
    (stamp / "token").write_text(token)
    temporary = folder / "..data_tmp"
    temporary.symlink_to(stamp.name)
    temporary.rename(folder / "..data")
    if not (folder / "token").is_symlink():
        (folder / "token").symlink_to("..data/token")


def rewrite_keeping_stamp(path: Path, token: str) -> None:
    """Change the content but keep size, inode and mtime: invisible to a stat."""
    info = path.stat()
    path.write_text(token)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def test_token_is_read_from_the_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("first\n")

    assert FileToken(tmp_path / "token").token() == "first"


def test_a_rewritten_token_file_is_used_at_once(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("first")
    source = FileToken(path)
    source.token()

    path.write_text("second-and-longer")

    assert source.token() == "second-and-longer"


def test_a_kubelet_style_symlink_swap_is_noticed(tmp_path: Path) -> None:
    kubelet_write(tmp_path, "first")
    source = FileToken(tmp_path / "token")
    source.token()

    kubelet_write(tmp_path, "fresh")

    assert source.token() == "fresh"


def test_an_unchanged_file_is_not_read_again_within_a_minute(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("aaaa")
    clock = Clock()
    source = FileToken(path, clock=clock)
    source.token()

    rewrite_keeping_stamp(path, "bbbb")
    clock.now += 30

    assert source.token() == "aaaa"


def test_the_file_is_read_again_after_a_minute_even_if_it_looks_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("aaaa")
    clock = Clock()
    source = FileToken(path, clock=clock)
    source.token()

    rewrite_keeping_stamp(path, "bbbb")
    clock.now += 60

    assert source.token() == "bbbb"


def test_invalidating_after_a_401_forces_a_read(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("aaaa")
    source = FileToken(path, clock=Clock())
    source.token()
    rewrite_keeping_stamp(path, "bbbb")

    source.invalidate()

    assert source.token() == "bbbb"


def test_a_vanished_file_keeps_the_last_token(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("aaaa")
    source = FileToken(path)
    source.token()

    path.unlink()

    assert source.token() == "aaaa"


def test_a_missing_file_without_a_previous_token_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the token file"):
        FileToken(tmp_path / "token").token()


def test_no_token_appears_in_a_repr(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("secret-value")
    source = FileToken(path)
    source.token()

    assert "secret-value" not in repr(source)
    assert "secret-value" not in repr(StaticToken("secret-value"))


def test_the_rest_client_sends_the_rotated_token_on_the_next_request(tmp_path: Path) -> None:
    kubelet_write(tmp_path, "first")
    access = ClusterAccess(source="test", server="https://api", token=FileToken(tmp_path / "token"))
    config = make_configuration(access)

    kubelet_write(tmp_path, "second")
    auth = asyncio.run(config.auth_settings())

    assert auth["BearerToken"]["value"] == "Bearer second"


def test_kopf_gets_a_fresh_token_with_an_expiry_at_every_login(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("aaaa")
    source = FileToken(path, clock=Clock())
    access = ClusterAccess(source="test", server="https://api", token=source)
    access.connection_info(lifetime=MINUTE)
    rewrite_keeping_stamp(path, "bbbb")

    before = datetime.datetime.now(datetime.UTC)
    info = access.connection_info(lifetime=MINUTE)

    assert info.token == "bbbb"
    assert info.expiration is not None
    assert before + MINUTE <= info.expiration <= before + 2 * MINUTE
