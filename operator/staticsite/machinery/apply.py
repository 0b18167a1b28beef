"""Server-side apply with one fixed field manager, and the check that decides whether to apply.

A pass that finds an object in shape must not write it. `needs_apply` compares the desired
object with the observed one: every field the operator sets must be present with the same value
(fields that the server or others added are ignored), and the maps named in `exact` must match
key for key, so that a removed entry (a deleted file, say) is noticed too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from staticsite.machinery.client import KubeClient
from staticsite.machinery.resources import JsonObject, ObjectKey, ResourceRef

APPLY_PATCH = "application/apply-patch+yaml"


class Applier:
    """Server-side apply as one field manager; every write of the operator goes through here."""

    def __init__(self, client: KubeClient, field_manager: str) -> None:
        self.client = client
        self.field_manager = field_manager

    async def apply(self, resource: ResourceRef, body: JsonObject) -> JsonObject:
        """Apply `body` (creating the object if needed) and return the object as stored.

        Uses `force=true`: the operator owns these fields and takes them back from anyone who
        edited them by hand. Raises `InvalidError` if the server refuses the object (422).
        """
        metadata = body["metadata"]
        return await self.client.request(
            "PATCH",
            resource.path(metadata["namespace"], metadata["name"]),
            query={"fieldManager": self.field_manager, "force": "true"},
            body=body,
            content_type=APPLY_PATCH,
        )

    async def apply_status(
        self, resource: ResourceRef, key: ObjectKey, status: JsonObject
    ) -> JsonObject:
        """Apply `status` through the status subresource of the object `key`."""
        body = {
            "apiVersion": resource.api_version,
            "kind": resource.kind,
            "metadata": {"name": key.name, "namespace": key.namespace},
            "status": status,
        }
        return await self.client.request(
            "PATCH",
            resource.path(key.namespace, key.name, "status"),
            query={"fieldManager": self.field_manager, "force": "true"},
            body=body,
            content_type=APPLY_PATCH,
        )


def needs_apply(
    desired: Mapping[str, Any],
    observed: Mapping[str, Any] | None,
    *,
    exact: Iterable[Sequence[str]] = (),
) -> bool:
    """Whether `observed` (None: absent) differs from `desired` in a field the operator sets."""
    if observed is None:
        return True
    if not contains(desired, observed):
        return True
    for path in exact:
        if (_lookup(desired, path) or None) != (_lookup(observed, path) or None):
            return True
    return False


def contains(desired: Any, observed: Any) -> bool:
    """Whether every field of `desired` is in `observed` with an equal value.

    Mappings may have extra keys in `observed`; lists must have the same length and contain
    each other item by item; scalars must be equal. An empty map or list in `desired` also
    matches an absent field, since the API server omits empty values.
    """
    if isinstance(desired, Mapping):
        if not isinstance(observed, Mapping):
            return False
        return all(
            contains(value, observed[key]) if key in observed else value in ({}, [])
            for key, value in desired.items()
        )
    if isinstance(desired, list):
        if not isinstance(observed, list) or len(desired) != len(observed):
            return False
        return all(contains(d, o) for d, o in zip(desired, observed, strict=True))
    return bool(desired == observed)


def _lookup(obj: Mapping[str, Any], path: Sequence[str]) -> Any:
    value: Any = obj
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value
