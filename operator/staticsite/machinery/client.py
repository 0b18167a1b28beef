"""The REST client: one shared kubernetes_asyncio `ApiClient` (one connection pool) for the process.

`make_configuration` builds the client configuration from `ClusterAccess`; its refresh hook asks
the token source for the current token before every request, so a rotated token is used at once.
`KubeClient.request` sends JSON, decodes JSON, maps failures to `machinery.errors` and retries
them per `machinery.retries`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol

import aiohttp
from kubernetes_asyncio.client import ApiClient, Configuration
from kubernetes_asyncio.client.exceptions import ApiException

from staticsite import __version__
from staticsite.machinery.credentials import ClusterAccess
from staticsite.machinery.errors import ApiError, TransportError, error_for_response
from staticsite.machinery.resources import JsonObject
from staticsite.machinery.retries import RetryPolicy, call_with_retries
from staticsite.machinery.tokens import TokenSource

REQUEST_TIMEOUT = 30.0


class ApiCaller(Protocol):
    """The one method of kubernetes_asyncio's `ApiClient` that `KubeClient` uses."""

    def call_api(
        self,
        resource_path: str,
        method: str,
        *,
        query_params: Any = ...,
        header_params: Any = ...,
        body: Any = ...,
        response_types_map: Any = ...,
        auth_settings: Any = ...,
        _return_http_data_only: Any = ...,
        _request_timeout: Any = ...,
    ) -> Any: ...


def make_configuration(access: ClusterAccess) -> Configuration:
    """A kubernetes_asyncio configuration whose bearer token follows `access.token`."""
    config = Configuration(host=access.server)
    config.ssl_ca_cert = access.ca_path
    config.verify_ssl = not access.insecure
    config.cert_file = access.client_cert_path
    config.key_file = access.client_key_path
    if access.token is not None:
        source = access.token
        config.api_key_prefix["BearerToken"] = "Bearer"
        config.api_key["BearerToken"] = source.token()
        config.refresh_api_key_hook = _token_refresher(source)
    return config


def _token_refresher(source: TokenSource) -> Callable[[Configuration], None]:
    def refresh(config: Configuration) -> None:
        config.api_key["BearerToken"] = source.token()

    return refresh


class KubeClient:
    """JSON requests to the API server with retries; safe to share between tasks."""

    def __init__(
        self,
        api: ApiCaller,
        *,
        token: TokenSource | None = None,
        policy: RetryPolicy | None = None,
        on_retry: Callable[[ApiError], None] | None = None,
    ) -> None:
        self._api = api
        self._token = token
        self._policy = policy or RetryPolicy()
        self._on_retry = on_retry

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: JsonObject | None = None,
        content_type: str = "application/json",
    ) -> JsonObject:
        """Send one request (retried per the policy) and return the decoded JSON object.

        Raises an `ApiError` subclass for the final failure.
        """

        async def once() -> JsonObject:
            return await self._send(method, path, query, body, content_type)

        return await call_with_retries(
            once,
            policy=self._policy,
            reauthenticate=self._token.invalidate if self._token is not None else None,
            on_retry=self._on_retry,
        )

    async def _send(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: JsonObject | None,
        content_type: str,
    ) -> JsonObject:
        try:
            data = await self._api.call_api(
                path,
                method,
                query_params=list((query or {}).items()),
                header_params={"Content-Type": content_type, "Accept": "application/json"},
                body=body,
                auth_settings=["BearerToken"],
                response_types_map={200: "object", 201: "object"},
                _return_http_data_only=True,
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException as error:
            raise error_for_response(
                int(error.status or 0),
                error.body,
                error.headers,
                reason=str(error.reason or ""),
                method=method,
                path=path,
            ) from error
        except (TimeoutError, aiohttp.ClientError) as error:
            raise TransportError(
                0, str(error) or type(error).__name__, method=method, path=path
            ) from error
        return data if isinstance(data, dict) else {}


@asynccontextmanager
async def open_client(
    access: ClusterAccess,
    *,
    name: str = "staticsite-operator",
    on_retry: Callable[[ApiError], None] | None = None,
) -> AsyncIterator[KubeClient]:
    """The process's one `KubeClient`, identified as `name`; its pool is closed on exit."""
    api = ApiClient(make_configuration(access))
    api.user_agent = f"{name}/{__version__}"
    try:
        yield KubeClient(api, token=access.token, on_retry=on_retry)
    finally:
        await api.close()
