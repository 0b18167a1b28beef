"""Bearer tokens that can change while the operator runs.

The kubelet rewrites a projected ServiceAccount token before it expires, by swapping the
`..data` symlink of the folder. `FileToken` notices a new file with a cheap `stat` on every
use, re-reads it at least once a minute anyway, and re-reads it at once after `invalidate()`
(called on a 401). No token ever appears in a repr or a log line.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from staticsite.machinery.errors import ConfigurationError

MAX_TOKEN_AGE = 60.0


class TokenSource(Protocol):
    """Where the current bearer token comes from."""

    def token(self) -> str:
        """The token to send now; raises `ConfigurationError` if there is none."""
        ...

    def invalidate(self) -> None:
        """Forget the cached token: the server refused it, so read it again before next use."""
        ...


class StaticToken:
    """A token that cannot change, e.g. written inline in a kubeconfig."""

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "StaticToken(<redacted>)"

    def token(self) -> str:
        return self._value

    def invalidate(self) -> None:
        """Nothing to re-read: the same token will be tried again and fail again."""


class FileToken:
    """A token file, re-read when it changes, when it is older than `max_age`, or on demand."""

    def __init__(
        self,
        path: Path,
        *,
        max_age: float = MAX_TOKEN_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self._max_age = max_age
        self._clock = clock
        self._value: str | None = None
        self._stamp: tuple[int, int, int, int] | None = None
        self._read_at = 0.0

    def __repr__(self) -> str:
        return f"FileToken({str(self.path)!r})"

    def token(self) -> str:
        """The current token; a cheap `stat` decides whether the file must be read again.

        If the file vanished or is empty but a token was read before, the old token is kept
        (the kubelet swaps files atomically, so this is a transient state at worst).
        """
        try:
            stamp = self._stat()
        except OSError as error:
            if self._value is not None:
                return self._value
            raise ConfigurationError(f"cannot read the token file {self.path}: {error}") from error
        too_old = self._clock() - self._read_at >= self._max_age
        if self._value is None or stamp != self._stamp or too_old:
            self._read(stamp)
        assert self._value is not None
        return self._value

    def invalidate(self) -> None:
        self._stamp = None

    def _stat(self) -> tuple[int, int, int, int]:
        # os.stat follows the `token -> ..data/token` symlinks to the real file.
        info = os.stat(self.path)
        return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)

    def _read(self, stamp: tuple[int, int, int, int]) -> None:
        try:
            value = self.path.read_text(encoding="utf-8").strip()
        except OSError as error:
            if self._value is not None:
                return
            raise ConfigurationError(f"cannot read the token file {self.path}: {error}") from error
        if not value:
            if self._value is not None:
                return
            raise ConfigurationError(f"the token file {self.path} is empty")
        self._value = value
        self._stamp = stamp
        self._read_at = self._clock()
