"""The kopf wiring: settings that need no cluster-wide permission, pinned handler ids, mapping
of owned objects to their owners, and the controller's handling of failed passes."""

from __future__ import annotations

import asyncio
import datetime
from typing import cast

import kopf

from staticsite.example import CONTROLLER
from staticsite.machinery.apply import Applier
from staticsite.machinery.client import KubeClient
from staticsite.machinery.controller import (
    Controller,
    ControllerSpec,
    ObjectView,
    Outcome,
    ReconcileContext,
)
from staticsite.machinery.credentials import ClusterAccess
from staticsite.machinery.errors import ServerError
from staticsite.machinery.kopfwiring import (
    make_kopf_settings,
    make_registry,
    owner_key,
    plain_body,
)
from staticsite.machinery.metrics import Metrics
from staticsite.machinery.resources import ObjectKey
from staticsite.machinery.tokens import StaticToken
from tests.unit.helpers import FakeApi


def controller(spec: ControllerSpec = CONTROLLER) -> Controller:
    context = ReconcileContext(applier=Applier(KubeClient(FakeApi()), "m"), view=ObjectView())
    return Controller(spec, context, Metrics("staticsite"), workers=1)


def test_kopf_runs_standalone_without_scanning_or_posting() -> None:
    settings = make_kopf_settings(CONTROLLER.owned, CONTROLLER.owned_labels)

    assert settings.peering.standalone is True
    assert settings.scanning.disabled is True
    assert settings.posting.enabled is False


def test_watches_are_restarted_every_few_minutes_with_fresh_credentials() -> None:
    settings = make_kopf_settings(CONTROLLER.owned, CONTROLLER.owned_labels)

    assert settings.watching.server_timeout == 300
    assert settings.watching.client_timeout > settings.watching.server_timeout


def test_owned_kinds_are_watched_through_a_server_side_label_selector() -> None:
    settings = make_kopf_settings(CONTROLLER.owned, CONTROLLER.owned_labels)

    selectors = dict(settings.watching.label_selectors.items())

    assert len(selectors) == 3
    assert set(selectors.values()) == {"app.kubernetes.io/managed-by=staticsite-operator"}


def test_handler_ids_are_pinned() -> None:
    registry = make_registry(
        primary=CONTROLLER.primary,
        owned=CONTROLLER.owned,
        access=ClusterAccess("proxy", "http://127.0.0.1:8001"),
        controller=controller(),
        view=ObjectView(),
    )

    watching = [h.id for h in registry._watching.get_all_handlers()]
    indexing = {h.id for h in registry._indexing.get_all_handlers()}

    assert watching == ["primary", "owned_configmaps", "owned_deployments", "owned_services"]
    assert indexing == {"primary_objects", "owned_objects"}
    assert not registry._changing.get_all_handlers()


def test_the_login_handler_hands_kopf_a_token_that_expires() -> None:
    access = ClusterAccess("kubeconfig", "https://api:6443", token=StaticToken("t"))

    info = access.connection_info(lifetime=datetime.timedelta(seconds=60))

    assert isinstance(info, kopf.ConnectionInfo)
    assert (info.server, info.token, info.scheme) == ("https://api:6443", "t", "Bearer")
    assert info.expiration is not None


def test_a_proxy_login_has_no_token_and_no_expiry() -> None:
    info = ClusterAccess("proxy", "http://127.0.0.1:8001").connection_info(
        lifetime=datetime.timedelta(seconds=60)
    )

    assert info.token is None
    assert info.expiration is None


def test_an_owned_object_maps_to_its_controlling_staticsite() -> None:
    body = {
        "metadata": {
            "namespace": "sites",
            "name": "web",
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "Other", "name": "x"},
                {
                    "apiVersion": "sites.example.com/v1alpha1",
                    "kind": "StaticSite",
                    "name": "web",
                    "controller": True,
                },
            ],
        }
    }

    assert owner_key(body, CONTROLLER.primary) == ObjectKey("sites", "web")


def test_an_object_without_a_controlling_staticsite_maps_to_nothing() -> None:
    body = {"metadata": {"namespace": "sites", "name": "web", "ownerReferences": []}}

    assert owner_key(body, CONTROLLER.primary) is None


def test_indexed_bodies_are_plain_copies_without_managed_fields() -> None:
    raw = {"metadata": {"name": "a", "managedFields": [{"manager": "x"}]}, "data": {}}
    body = kopf.Body(cast(kopf.RawBody, raw))

    copy = plain_body(body)

    assert copy == {"metadata": {"name": "a"}, "data": {}}
    assert type(copy) is dict


def test_a_failed_pass_is_counted_and_retried_later() -> None:
    async def failing(ctx: ReconcileContext, key: ObjectKey) -> Outcome:
        raise ServerError(503, "unavailable")

    spec = ControllerSpec(**{**CONTROLLER.__dict__, "reconcile": failing})

    ctrl = controller(spec)

    async def scenario() -> tuple[Outcome | None, int]:
        outcome = await ctrl.process(ObjectKey("a", "b"))
        pending = len(ctrl.queue._timers)
        ctrl.queue.close()
        return outcome, pending

    outcome, pending = asyncio.run(scenario())

    registry = ctrl.metrics.registry
    assert outcome is None
    assert pending == 1
    assert registry.get_sample_value("staticsite_reconcile_total", {"result": "error"}) == 1
    assert (
        registry.get_sample_value("staticsite_reconcile_errors_total", {"reason": "ServerError"})
        == 1
    )
    assert registry.get_sample_value("staticsite_reconcile_duration_seconds_count") == 1


def test_a_crashing_pass_does_not_kill_the_worker() -> None:
    calls: list[ObjectKey] = []

    async def crashing(ctx: ReconcileContext, key: ObjectKey) -> Outcome:
        calls.append(key)
        raise KeyError("bug")

    spec = ControllerSpec(**{**CONTROLLER.__dict__, "reconcile": crashing})

    async def scenario() -> None:
        ctrl = controller(spec)
        ctrl.start()
        ctrl.enqueue(ObjectKey("a", "one"))
        ctrl.enqueue(ObjectKey("a", "two"))
        for _ in range(50):
            if len(calls) == 2:
                break
            await asyncio.sleep(0.01)
        await ctrl.stop()

    asyncio.run(scenario())

    assert calls == [ObjectKey("a", "one"), ObjectKey("a", "two")]
