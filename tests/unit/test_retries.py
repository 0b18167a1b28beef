"""The retry policy and the REST client's error mapping, against injected calls and a fake API."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from staticsite.machinery.client import KubeClient
from staticsite.machinery.errors import (
    ApiError,
    ConflictError,
    ForbiddenError,
    InvalidError,
    ServerError,
    TooManyRequestsError,
    TransportError,
    UnauthorizedError,
    parse_retry_after,
)
from staticsite.machinery.retries import RetryPolicy, call_with_retries
from tests.unit.helpers import FakeApi, api_exception

POLICY = RetryPolicy(attempts=4, base_delay=0.5, max_delay=2.0, max_retry_after=30.0)


class Script:
    """A call that fails with the given errors in turn, then returns "done"."""

    def __init__(self, *errors: ApiError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def run(call: Callable[[], Awaitable[str]], sleeps: Sleeps, **kwargs: Any) -> str:
    return asyncio.run(call_with_retries(call, policy=POLICY, sleep=sleeps, **kwargs))


@pytest.mark.parametrize(
    "error",
    [ConflictError(409, "conflict"), ServerError(503, "unavailable"), TransportError(0, "reset")],
)
def test_conflicts_server_errors_and_transport_failures_are_retried_with_backoff(
    error: ApiError,
) -> None:
    call, sleeps = Script(error, error, error), Sleeps()

    result = run(call, sleeps)

    assert result == "done"
    assert call.calls == 4
    assert sleeps.delays == [0.5, 1.0, 2.0]


def test_retries_are_bounded_and_the_last_error_is_raised() -> None:
    call, sleeps = Script(*[ServerError(500, f"boom {i}") for i in range(10)]), Sleeps()

    with pytest.raises(ServerError, match="boom 3"):
        run(call, sleeps)

    assert call.calls == 4


def test_429_waits_as_long_as_retry_after_says() -> None:
    call, sleeps = Script(TooManyRequestsError(429, "slow down", retry_after=7.0)), Sleeps()

    run(call, sleeps)

    assert sleeps.delays == [7.0]


def test_429_retry_after_is_capped() -> None:
    call, sleeps = Script(TooManyRequestsError(429, "slow down", retry_after=3600.0)), Sleeps()

    run(call, sleeps)

    assert sleeps.delays == [30.0]


def test_429_without_retry_after_falls_back_to_the_backoff() -> None:
    call, sleeps = Script(TooManyRequestsError(429, "slow down")), Sleeps()

    run(call, sleeps)

    assert sleeps.delays == [0.5]


@pytest.mark.parametrize(
    "error", [InvalidError(422, "spec.replicas: Invalid value"), ForbiddenError(403, "no")]
)
def test_422_and_403_are_raised_at_once(error: ApiError) -> None:
    call, sleeps = Script(error), Sleeps()

    with pytest.raises(type(error)):
        run(call, sleeps)

    assert call.calls == 1


def test_a_401_re_reads_the_credentials_and_retries_once() -> None:
    call, sleeps = Script(UnauthorizedError(401, "expired")), Sleeps()
    reauthentications: list[bool] = []

    result = run(call, sleeps, reauthenticate=lambda: reauthentications.append(True))

    assert result == "done"
    assert reauthentications == [True]
    assert sleeps.delays == []


def test_a_second_401_is_raised() -> None:
    call, sleeps = Script(UnauthorizedError(401, "a"), UnauthorizedError(401, "b")), Sleeps()

    with pytest.raises(UnauthorizedError):
        run(call, sleeps, reauthenticate=lambda: None)

    assert call.calls == 2


def test_the_client_turns_a_422_into_an_invalid_error_with_the_servers_message() -> None:
    status = {"kind": "Status", "message": 'Deployment.apps "web" is invalid: spec.replicas'}
    client = KubeClient(FakeApi([api_exception(422, status)]))

    with pytest.raises(InvalidError) as raised:
        asyncio.run(client.request("PATCH", "/apis/apps/v1/namespaces/a/deployments/web"))

    assert raised.value.status == 422
    assert raised.value.message == 'Deployment.apps "web" is invalid: spec.replicas'


def test_the_client_reads_retry_after_from_a_429() -> None:
    fake = FakeApi([api_exception(429, {"message": "slow"}, {"Retry-After": "0"}), {"ok": True}])
    client = KubeClient(fake)

    result = asyncio.run(client.request("GET", "/api"))

    assert result == {"ok": True}
    assert len(fake.calls) == 2


def test_the_client_re_reads_its_token_after_a_401() -> None:
    class Token:
        invalidated = 0

        def token(self) -> str:
            return "t"

        def invalidate(self) -> None:
            self.invalidated += 1

    token = Token()
    fake = FakeApi([api_exception(401, {"message": "Unauthorized"}), {"kind": "APIVersions"}])

    result = asyncio.run(KubeClient(fake, token=token).request("GET", "/api"))

    assert result == {"kind": "APIVersions"}
    assert token.invalidated == 1


def test_the_client_maps_connection_failures_to_transport_errors() -> None:
    failures: list[Any] = [aiohttp.ClientConnectionError("refused")] * 5
    client = KubeClient(FakeApi(failures), policy=RetryPolicy(attempts=1))

    with pytest.raises(TransportError):
        asyncio.run(client.request("GET", "/api"))


def test_the_client_sends_json_with_the_given_content_type_and_query() -> None:
    fake = FakeApi([{"kind": "ConfigMap"}])
    client = KubeClient(fake)

    asyncio.run(
        client.request(
            "PATCH",
            "/api/v1/namespaces/a/configmaps/b",
            query={"fieldManager": "me"},
            body={"kind": "ConfigMap"},
            content_type="application/apply-patch+yaml",
        )
    )

    method, path, kwargs = fake.calls[0]
    assert (method, path) == ("PATCH", "/api/v1/namespaces/a/configmaps/b")
    assert kwargs["header_params"]["Content-Type"] == "application/apply-patch+yaml"
    assert kwargs["query_params"] == [("fieldManager", "me")]
    assert kwargs["auth_settings"] == ["BearerToken"]


def test_retry_after_accepts_seconds_and_rejects_garbage() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
