"""Reconciliation passes over a fake cluster: converge once, then write nothing while in shape."""

from __future__ import annotations

import asyncio
import copy
import datetime
from typing import Any

from staticsite.example import reasons
from staticsite.example.reconciler import reconcile
from staticsite.machinery.apply import Applier
from staticsite.machinery.client import KubeClient
from staticsite.machinery.controller import ObjectView, Outcome, ReconcileContext
from staticsite.machinery.errors import InvalidError
from staticsite.machinery.resources import JsonObject, ObjectKey, ResourceRef
from tests.unit.helpers import FakeApi, make_site

KEY = ObjectKey("sites", "web")
NOW = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.UTC)


class FakeCluster(Applier):
    """Applies into a dict the way the API server would, adding defaults; records every write."""

    def __init__(self, site: JsonObject) -> None:
        super().__init__(KubeClient(FakeApi()), "staticsite-operator")
        self.site = site
        self.children: dict[str, JsonObject] = {}
        self.writes: list[str] = []
        self.reject: dict[str, str] = {}

    async def apply(self, resource: ResourceRef, body: JsonObject) -> JsonObject:
        self.writes.append(resource.kind)
        if resource.kind in self.reject:
            raise InvalidError(422, self.reject[resource.kind])
        stored = with_server_defaults(copy.deepcopy(body))
        self.children[resource.kind] = stored
        return stored

    async def apply_status(
        self, resource: ResourceRef, key: ObjectKey, status: JsonObject
    ) -> JsonObject:
        self.writes.append("status")
        self.site["status"] = copy.deepcopy(status)
        return self.site

    def view(self) -> ObjectView:
        view = ObjectView()
        view.bind({KEY: [self.site]}, {KEY: list(self.children.values())})
        return view

    def context(self) -> ReconcileContext:
        return ReconcileContext(applier=self, view=self.view(), now=lambda: NOW)


def with_server_defaults(body: JsonObject) -> JsonObject:
    body["metadata"].update(uid="child-uid", resourceVersion="5", managedFields=[{}])
    if body["kind"] == "Deployment":
        body["metadata"]["generation"] = 1
        body["spec"]["strategy"] = {"type": "RollingUpdate"}
        pod = body["spec"]["template"]["spec"]
        pod["containers"][0]["imagePullPolicy"] = "IfNotPresent"
        pod["volumes"][0]["configMap"]["defaultMode"] = 420
        body["status"] = {}
    if body["kind"] == "Service":
        body["spec"]["clusterIP"] = "10.0.0.7"
    return body


def run(cluster: FakeCluster) -> Outcome:
    cluster.writes.clear()
    return asyncio.run(reconcile(cluster.context(), KEY))


def conditions(site: JsonObject) -> dict[str, Any]:
    return {c["type"]: c for c in site["status"]["conditions"]}


def test_a_new_site_gets_its_three_children_and_a_status() -> None:
    cluster = FakeCluster(make_site())

    outcome = run(cluster)

    assert outcome is Outcome.CHANGED
    assert cluster.writes == ["ConfigMap", "Deployment", "Service", "status"]
    assert conditions(cluster.site)["Ready"]["status"] == "False"


def test_a_second_pass_over_a_site_in_shape_writes_nothing() -> None:
    cluster = FakeCluster(make_site())
    run(cluster)

    outcome = run(cluster)

    assert outcome is Outcome.UNCHANGED
    assert cluster.writes == []


def test_a_child_edited_by_hand_is_applied_again_alone() -> None:
    cluster = FakeCluster(make_site())
    run(cluster)
    cluster.children["Deployment"]["spec"]["replicas"] = 9

    run(cluster)

    assert cluster.writes == ["Deployment"]
    assert cluster.children["Deployment"]["spec"]["replicas"] == 1


def test_a_deleted_child_is_recreated() -> None:
    cluster = FakeCluster(make_site())
    run(cluster)
    del cluster.children["Service"]

    run(cluster)

    assert cluster.writes == ["Service"]


def test_a_removed_file_updates_the_configmap_and_rolls_the_pods() -> None:
    cluster = FakeCluster(make_site(spec={"files": {"a.html": "a", "b.html": "b"}}))
    run(cluster)
    cluster.site["spec"] = {"files": {"a.html": "a"}}

    run(cluster)

    assert cluster.writes == ["ConfigMap", "Deployment"]
    assert cluster.children["ConfigMap"]["data"] == {"a.html": "a"}


def test_the_site_becomes_ready_when_its_deployment_does() -> None:
    cluster = FakeCluster(make_site())
    run(cluster)
    cluster.children["Deployment"]["status"] = {
        "observedGeneration": 1,
        "replicas": 1,
        "updatedReplicas": 1,
        "readyReplicas": 1,
        "availableReplicas": 1,
    }

    outcome = run(cluster)

    assert outcome is Outcome.CHANGED
    assert cluster.writes == ["status"]
    assert conditions(cluster.site)["Ready"]["status"] == "True"
    assert cluster.site["status"]["readyReplicas"] == 1


def test_an_invalid_spec_is_reported_as_degraded_without_touching_children() -> None:
    cluster = FakeCluster(make_site(spec={"files": {"../etc": "x"}}))

    outcome = run(cluster)

    assert outcome is Outcome.DEGRADED
    assert cluster.writes == ["status"]
    degraded = conditions(cluster.site)["Degraded"]
    assert (degraded["status"], degraded["reason"]) == ("True", reasons.INVALID_SPEC)
    assert "../etc" in degraded["message"]


def test_a_child_refused_with_422_is_reported_with_the_servers_message() -> None:
    cluster = FakeCluster(make_site())
    cluster.reject["Deployment"] = "spec.template.spec.containers[0].image: Required value"

    outcome = run(cluster)

    assert outcome is Outcome.DEGRADED
    assert cluster.writes == ["ConfigMap", "Deployment", "Service", "status"]
    degraded = conditions(cluster.site)["Degraded"]
    assert degraded["reason"] == reasons.APPLY_REJECTED
    assert "containers[0].image: Required value" in degraded["message"]


def test_a_degraded_site_is_not_written_again_while_nothing_changes() -> None:
    cluster = FakeCluster(make_site(spec={"replicas": 99}))
    run(cluster)

    outcome = run(cluster)

    assert outcome is Outcome.DEGRADED
    assert cluster.writes == []


def test_a_site_that_is_gone_is_left_to_the_garbage_collector() -> None:
    cluster = FakeCluster(make_site())
    view = ObjectView()
    context = ReconcileContext(applier=cluster, view=view, now=lambda: NOW)

    outcome = asyncio.run(reconcile(context, KEY))

    assert outcome is Outcome.UNCHANGED
    assert cluster.writes == []
