"""Helpers shared by the unit tests: sample StaticSites and a fake kubernetes_asyncio client."""

from __future__ import annotations

import copy
import json
from typing import Any, cast

from kubernetes_asyncio.client.exceptions import ApiException

from staticsite.machinery.resources import JsonObject


def make_site(
    name: str = "web",
    namespace: str = "sites",
    *,
    spec: JsonObject | None = None,
    status: JsonObject | None = None,
    generation: int = 1,
) -> JsonObject:
    """A StaticSite body as the API server would return it."""
    site: JsonObject = {
        "apiVersion": "sites.example.com/v1alpha1",
        "kind": "StaticSite",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "generation": generation,
            "resourceVersion": "100",
        },
        "spec": spec if spec is not None else {"files": {"index.html": "<h1>hi</h1>"}},
    }
    if status is not None:
        site["status"] = status
    return site


class FakeResponse:
    """Just enough of a kubernetes_asyncio response to build an `ApiException` from."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None) -> None:
        self.status = status
        self.reason = "Reason"
        self.data = json.dumps(body) if body is not None else None
        self.headers = headers or {}

    def getheaders(self) -> dict[str, str]:
        return self.headers


def api_exception(
    status: int, body: Any = None, headers: dict[str, str] | None = None
) -> ApiException:
    """The exception kubernetes_asyncio raises for a response with `status`."""
    return ApiException(http_resp=cast(Any, FakeResponse(status, body, headers)))


class FakeApi:
    """Stands in for kubernetes_asyncio's ApiClient: answers `call_api` from a script.

    Each entry of `script` is either a value to return or an exception to raise.
    """

    def __init__(self, script: list[Any] | None = None) -> None:
        self.script = list(script or [])
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def call_api(self, resource_path: str, method: str, **kwargs: Any) -> Any:
        self.calls.append((method, resource_path, copy.deepcopy(kwargs)))
        outcome = self.script.pop(0) if self.script else {}
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome
