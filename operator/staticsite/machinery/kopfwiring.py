"""kopf's part: its settings, the login handler, and the handlers that feed the controller.

Only kopf index and event handlers are registered, never create/update/delete handlers. So kopf
keeps no state on the objects (no annotations, no finalizers, no status patches), posts no
Events, and needs no permission beyond list and watch. The handlers do three things:

- index handlers keep an in-memory view of the primary objects and of the objects they own;
  kopf fills every index from its initial listing before any event handler runs;
- event handlers turn every event (the initial listing counts as one per object) into a key
  in the controller's queue: the primary's own key, or the key of an owned object's owner;
- the login handler gives kopf the same credentials as the REST client. When the token can
  rotate they expire after a minute: kopf's next request after that logs in again, and the
  handler re-reads the token file. After a 401, kopf logs in again at once.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import kopf

from staticsite.machinery.controller import Controller, ObjectView
from staticsite.machinery.credentials import ClusterAccess
from staticsite.machinery.resources import JsonObject, ObjectKey, ResourceRef

LOGIN_LIFETIME = datetime.timedelta(seconds=60)
GRACEFUL_EXIT_TIMEOUT = 20.0

WATCH_SERVER_TIMEOUT = 300

# Handler ids are pinned: kopf derives them from function names otherwise.
PRIMARY_INDEX = "primary_objects"
OWNED_INDEX = "owned_objects"


def make_kopf_settings(owned: tuple[ResourceRef, ...], labels: Mapping[str, str]) -> Any:
    """kopf settings for a namespaced, standalone operator with no cluster-wide permission."""
    settings = kopf.OperatorSettings()
    settings.peering.standalone = True
    settings.scanning.disabled = True
    settings.posting.enabled = False
    settings.process.ultimate_exiting_timeout = GRACEFUL_EXIT_TIMEOUT
    # Watches end and restart every few minutes: a stream that silently stalled is replaced,
    # and a restarted watch authenticates with the current token after a rotation.
    settings.watching.server_timeout = WATCH_SERVER_TIMEOUT
    settings.watching.client_timeout = WATCH_SERVER_TIMEOUT + 30
    settings.watching.connect_timeout = 30
    selector = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
    for resource in owned:
        settings.watching.label_selectors[resource.group, resource.version, resource.plural] = (
            selector
        )
    return settings


def make_registry(
    *,
    primary: ResourceRef,
    owned: tuple[ResourceRef, ...],
    access: ClusterAccess,
    controller: Controller,
    view: ObjectView,
) -> kopf.OperatorRegistry:
    """A registry holding the login, start-up, index and event handlers of one controller."""
    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry, id="login")
    def login(**_: Any) -> kopf.ConnectionInfo:
        return access.connection_info(lifetime=LOGIN_LIFETIME)

    @kopf.on.startup(registry=registry, id="bind_view")
    def bind_view(**kwargs: Any) -> None:
        view.bind(kwargs[PRIMARY_INDEX], kwargs[OWNED_INDEX])

    @kopf.index(primary.group, primary.version, primary.plural, registry=registry, id=PRIMARY_INDEX)
    def index_primary(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> Any:
        return {ObjectKey(str(namespace), name): plain_body(body)}

    @kopf.on.event(primary.group, primary.version, primary.plural, registry=registry, id="primary")
    def on_primary_event(namespace: str | None, name: str, type: str, **_: Any) -> None:
        # Return nothing: kopf would store a handler's return value in the object's status.
        key = ObjectKey(str(namespace), name)
        if type == "DELETED":
            controller.forget(key)
        else:
            controller.enqueue(key)

    for resource in owned:

        @kopf.index(
            resource.group, resource.version, resource.plural, registry=registry, id=OWNED_INDEX
        )
        def index_owned(body: kopf.Body, **_: Any) -> Any:
            key = owner_key(body, primary)
            return {key: plain_body(body)} if key is not None else {}

        @kopf.on.event(
            resource.group,
            resource.version,
            resource.plural,
            registry=registry,
            id=f"owned_{resource.plural}",
        )
        def on_owned_event(body: kopf.Body, **_: Any) -> None:
            key = owner_key(body, primary)
            if key is not None:
                controller.enqueue(key)

    return registry


def owner_key(body: Mapping[str, Any], primary: ResourceRef) -> ObjectKey | None:
    """The key of the primary object that controls `body`, per its controller ownerReference."""
    metadata = body.get("metadata", {})
    for ref in metadata.get("ownerReferences", ()):
        if ref.get("controller") and primary.matches(ref):
            return ObjectKey(str(metadata.get("namespace")), str(ref.get("name")))
    return None


def plain_body(body: Mapping[str, Any]) -> JsonObject:
    """A detached, plain-dict copy of `body` without `managedFields` (they only cost memory)."""
    copy: JsonObject = _plain(body)
    copy.get("metadata", {}).pop("managedFields", None)
    return copy


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
