"""The operator's exception hierarchy: configuration problems and API errors by HTTP status.

The REST client turns every failed request into one of these classes, so that callers catch
exactly the situations they handle (a 422 is `InvalidError`, a 409 is `ConflictError`, ...).
Messages carry the server's explanation, never a request header or a token.
"""

from __future__ import annotations

import datetime
import email.utils
import json
from collections.abc import Mapping


class OperatorError(Exception):
    """Base class of every error raised on purpose by this operator."""


class ConfigurationError(OperatorError):
    """A setting, a credential file or a kubeconfig is missing or invalid; a user must act."""


class ApiError(OperatorError):
    """A request to the API server failed; `status` is the HTTP status (0: no response)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        reason: str = "",
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
    ) -> None:
        where = f"{method} {path}: " if method or path else ""
        what = f"{status} {reason}".strip() if status else "no response"
        super().__init__(f"{where}{what}: {message}")
        self.status = status
        self.message = message
        self.reason = reason
        self.method = method
        self.path = path
        self.retry_after = retry_after


class TransportError(ApiError):
    """No HTTP response at all: connection refused or reset, TLS failure, timeout."""


class UnauthorizedError(ApiError):
    """401: the credentials were rejected (an expired or rotated token, usually)."""


class ForbiddenError(ApiError):
    """403: authenticated, but RBAC does not allow the request."""


class NotFoundError(ApiError):
    """404: the object, the namespace or the API itself does not exist."""


class ConflictError(ApiError):
    """409: a concurrent change or an object that already exists; worth a retry."""


class InvalidError(ApiError):
    """422: the server refused the object itself; retrying the same request cannot help."""


class TooManyRequestsError(ApiError):
    """429: the server asks the client to slow down, usually with a Retry-After header."""


class ServerError(ApiError):
    """5xx: the server (or something between) failed; worth a retry."""


_BY_STATUS: dict[int, type[ApiError]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidError,
    429: TooManyRequestsError,
}


def error_for_response(
    status: int,
    body: str | bytes | None,
    headers: Mapping[str, str] | None,
    *,
    reason: str = "",
    method: str = "",
    path: str = "",
) -> ApiError:
    """Build the matching `ApiError` subclass, with the message of a Kubernetes Status body."""
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    retry_after = parse_retry_after(headers.get("Retry-After")) if headers else None
    return cls(
        status,
        _status_message(body) or reason or "no message",
        reason=reason,
        method=method,
        path=path,
        retry_after=retry_after,
    )


def _status_message(body: str | bytes | None) -> str:
    """The `message` of a `kind: Status` body, or the start of a body that is not one."""
    if not body:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        decoded = json.loads(text)
    except ValueError:
        return text[:500]
    if isinstance(decoded, dict) and isinstance(decoded.get("message"), str):
        return str(decoded["message"])
    return text[:500]


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP date); None if bad."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds())
