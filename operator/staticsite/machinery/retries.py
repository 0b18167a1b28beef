"""The retry policy for API requests: which failures are retried, how long to wait, how often.

- 409, 5xx and transport failures: exponential backoff, a bounded number of attempts.
- 429: wait as long as the server's Retry-After says (capped), else the backoff.
- 401: re-read the credentials and retry once.
- 422 and every other status: raised at once; retrying the same request cannot help.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog

from staticsite.machinery.errors import (
    ApiError,
    ConflictError,
    ServerError,
    TooManyRequestsError,
    TransportError,
    UnauthorizedError,
)

T = TypeVar("T")
RETRIABLE: tuple[type[ApiError], ...] = (
    ConflictError,
    ServerError,
    TooManyRequestsError,
    TransportError,
)

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a retriable failure gets, and the delays between them."""

    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 10.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, error: ApiError) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if isinstance(error, TooManyRequestsError) and error.retry_after is not None:
            return min(error.retry_after, self.max_retry_after)
        return float(min(self.base_delay * 2.0 ** (attempt - 1), self.max_delay))


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    reauthenticate: Callable[[], None] | None = None,
    on_retry: Callable[[ApiError], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Await `call()` until it succeeds, retrying per `policy`.

    `reauthenticate` is called on the first 401 (then the call is retried once; a second 401
    is raised). When the attempts are used up, the last error is raised unchanged.
    """
    attempt = 0
    reauthenticated = False
    while True:
        attempt += 1
        try:
            return await call()
        except UnauthorizedError as error:
            if reauthenticated or reauthenticate is None:
                raise
            reauthenticated = True
            attempt -= 1
            log.info("credentials refused, re-reading them", path=error.path)
            if on_retry is not None:
                on_retry(error)
            reauthenticate()
        except RETRIABLE as error:
            if attempt >= policy.attempts:
                raise
            delay = policy.delay(attempt, error)
            log.debug(
                "request failed, will retry",
                status=error.status,
                path=error.path,
                attempt=attempt,
                delay=delay,
            )
            if on_retry is not None:
                on_retry(error)
            await sleep(delay)
