"""Deciding whether to apply: desired fields must be in the observed object, nothing more."""

from __future__ import annotations

import asyncio

from staticsite.machinery.apply import Applier, contains, needs_apply
from staticsite.machinery.client import KubeClient
from staticsite.machinery.resources import ObjectKey, ResourceRef
from tests.unit.helpers import FakeApi

CONFIGMAP = ResourceRef("", "v1", "configmaps", "ConfigMap")
SITES = ResourceRef("sites.example.com", "v1alpha1", "staticsites", "StaticSite")


def test_an_absent_object_needs_applying() -> None:
    assert needs_apply({"data": {}}, None)


def test_fields_added_by_the_server_do_not_count_as_drift() -> None:
    desired = {"spec": {"containers": [{"name": "a", "image": "x"}]}}
    observed = {
        "metadata": {"resourceVersion": "9"},
        "spec": {"containers": [{"name": "a", "image": "x", "imagePullPolicy": "IfNotPresent"}]},
        "status": {},
    }

    assert not needs_apply(desired, observed)


def test_a_changed_value_is_drift() -> None:
    assert needs_apply({"spec": {"replicas": 2}}, {"spec": {"replicas": 5}})


def test_a_list_of_another_length_is_drift() -> None:
    assert not contains({"ports": [{"port": 80}]}, {"ports": [{"port": 80}, {"port": 81}]})


def test_an_empty_desired_map_matches_an_omitted_field() -> None:
    assert not needs_apply({"data": {}, "spec": {"emptyDir": {}}}, {"spec": {"emptyDir": {}}})


def test_exact_maps_notice_a_removed_entry() -> None:
    desired = {"data": {"a.html": "a"}}
    observed = {"data": {"a.html": "a", "old.html": "gone"}}

    assert not needs_apply(desired, observed)
    assert needs_apply(desired, observed, exact=[("data",)])


def test_apply_is_a_forced_server_side_apply_with_the_field_manager() -> None:
    fake = FakeApi([{"kind": "ConfigMap"}])
    applier = Applier(KubeClient(fake), "my-operator")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "a"}}

    asyncio.run(applier.apply(CONFIGMAP, body))

    method, path, kwargs = fake.calls[0]
    assert (method, path) == ("PATCH", "/api/v1/namespaces/a/configmaps/b")
    assert kwargs["header_params"]["Content-Type"] == "application/apply-patch+yaml"
    assert kwargs["query_params"] == [("fieldManager", "my-operator"), ("force", "true")]
    assert kwargs["body"] == body


def test_status_is_applied_through_the_status_subresource() -> None:
    fake = FakeApi([{}])
    applier = Applier(KubeClient(fake), "my-operator")

    asyncio.run(applier.apply_status(SITES, ObjectKey("a", "web"), {"readyReplicas": 1}))

    _method, path, kwargs = fake.calls[0]
    assert path == "/apis/sites.example.com/v1alpha1/namespaces/a/staticsites/web/status"
    assert kwargs["body"] == {
        "apiVersion": "sites.example.com/v1alpha1",
        "kind": "StaticSite",
        "metadata": {"name": "web", "namespace": "a"},
        "status": {"readyReplicas": 1},
    }
