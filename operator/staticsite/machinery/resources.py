"""Names of API resources and objects: which URL serves a kind, and how an object is keyed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

JsonObject = dict[str, Any]


class ObjectKey(NamedTuple):
    """A namespaced object's identity within one kind."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class ResourceRef:
    """One namespaced API resource: `group` is "" for the core API."""

    group: str
    version: str
    plural: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version_path(self) -> str:
        """The discovery path of the resource's group and version, e.g. `/apis/apps/v1`."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def path(self, namespace: str, name: str | None = None, subresource: str | None = None) -> str:
        """The URL path of the collection in `namespace`, of one object, or of its subresource."""
        path = f"{self.group_version_path}/namespaces/{namespace}/{self.plural}"
        if name is not None:
            path = f"{path}/{name}"
            if subresource is not None:
                path = f"{path}/{subresource}"
        return path

    def matches(self, body: Any) -> bool:
        """Whether an object body is of this kind (same group and kind; any version)."""
        api_version = str(body.get("apiVersion", ""))
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        return bool(body.get("kind") == self.kind and group == self.group)
