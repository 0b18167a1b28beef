"""The permissions the operator needs, as data: checked at start-up, mirrored by `rbac/`.

A controller declares what its own code calls (server-side apply is a PATCH, authorised as
`patch`, and as `create` too when the object does not exist yet); `required_permissions` adds
what kopf does for it. With the settings of `machinery.kopfwiring` (standalone, scanning off,
posting off, only event and index handlers) kopf lists and watches each watched resource in
each watched namespace, and nothing else: no peering objects, no CRDs, no namespaces, no
Events, and no patches of the watched objects for its own state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from staticsite.machinery.resources import ResourceRef


@dataclass(frozen=True, order=True)
class Permission:
    """One verb on one resource (or subresource) of one API group, in a namespace."""

    group: str
    resource: str
    verb: str
    subresource: str = ""

    @property
    def resource_name(self) -> str:
        """The resource as RBAC rules spell it, e.g. `staticsites/status`."""
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource

    def describe(self, namespace: str | None = None) -> str:
        """E.g. `patch services (group "", the core API) in namespace web`."""
        group = f'"{self.group}"' if self.group else '"", the core API'
        where = f" in namespace {namespace}" if namespace else ""
        return f"{self.verb} {self.resource_name} (group {group}){where}"


def on(resource: ResourceRef, *verbs: str, subresource: str = "") -> tuple[Permission, ...]:
    """Permissions for `verbs` on `resource`: a shorthand for declaring them."""
    return tuple(Permission(resource.group, resource.plural, verb, subresource) for verb in verbs)


def watch_permissions(resources: Iterable[ResourceRef]) -> tuple[Permission, ...]:
    """What kopf needs for every resource it watches: the initial list, then the watch."""
    return tuple(p for resource in resources for p in on(resource, "list", "watch"))


def required_permissions(
    watched: Iterable[ResourceRef], own: Iterable[Permission]
) -> tuple[Permission, ...]:
    """All permissions, de-duplicated and sorted: kopf's for `watched`, plus the code's `own`."""
    return tuple(sorted(set(watch_permissions(watched)) | set(own)))
