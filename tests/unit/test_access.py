"""The start-up access check: discovery first, then one review per permission and namespace."""

from __future__ import annotations

import asyncio
from typing import Any

from staticsite.machinery.access import AccessReport, check_access
from staticsite.machinery.client import KubeClient
from staticsite.machinery.permissions import Permission
from staticsite.machinery.resources import ResourceRef
from tests.unit.helpers import api_exception

SITES = ResourceRef("sites.example.com", "v1alpha1", "staticsites", "StaticSite")
PERMISSIONS = (
    Permission("sites.example.com", "staticsites", "watch"),
    Permission("sites.example.com", "staticsites", "patch", "status"),
)
GROUP = {"resources": [{"name": "staticsites"}, {"name": "staticsites/status"}]}


class Cluster:
    """Answers discovery, and reviews from a set of denied (verb, resource, namespace)."""

    def __init__(self, denied: set[tuple[str, str, str]], *, group: Any = GROUP) -> None:
        self.denied = denied
        self.group = group
        self.reviews: list[dict[str, Any]] = []

    async def call_api(self, resource_path: str, method: str, **kwargs: Any) -> Any:
        if resource_path == "/api":
            return {"kind": "APIVersions"}
        if resource_path == SITES.group_version_path:
            if self.group is None:
                raise api_exception(404, {"message": "not found"})
            return self.group
        attributes = kwargs["body"]["spec"]["resourceAttributes"]
        self.reviews.append(attributes)
        resource = attributes["resource"] + (
            "/" + attributes["subresource"] if "subresource" in attributes else ""
        )
        allowed = (attributes["verb"], resource, attributes["namespace"]) not in self.denied
        return {"status": {"allowed": allowed}}


def check(cluster: Cluster, namespaces: tuple[str, ...] = ("a", "b")) -> AccessReport:
    return asyncio.run(
        check_access(
            KubeClient(cluster), primary=SITES, permissions=PERMISSIONS, namespaces=namespaces
        )
    )


def test_every_permission_is_reviewed_in_every_namespace() -> None:
    cluster = Cluster(denied=set())

    report = check(cluster)

    assert report.ok
    assert len(cluster.reviews) == 4
    assert {
        "namespace": "b",
        "verb": "patch",
        "group": "sites.example.com",
        "resource": "staticsites",
        "subresource": "status",
    } in cluster.reviews


def test_missing_permissions_are_listed_with_verb_group_resource_and_namespace() -> None:
    cluster = Cluster(denied={("patch", "staticsites/status", "b")})

    report = check(cluster)

    assert not report.ok
    assert [(m.permission.verb, m.namespace) for m in report.missing] == [("patch", "b")]
    assert (
        '  - patch staticsites/status (group "sites.example.com") in namespace b' in report.render()
    )


def test_an_api_group_that_is_not_served_is_reported_before_any_review() -> None:
    cluster = Cluster(denied=set(), group=None)

    report = check(cluster)

    assert not report.ok
    assert "is the StaticSite CRD installed?" in report.render()
    assert cluster.reviews == []


def test_a_group_without_the_resource_is_reported() -> None:
    cluster = Cluster(denied=set(), group={"resources": []})

    report = check(cluster)

    assert report.problems == ["sites.example.com/v1alpha1 does not serve staticsites"]
