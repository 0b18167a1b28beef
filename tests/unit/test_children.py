"""The desired children of a StaticSite: their shapes, labels, owner references and checksum."""

from __future__ import annotations

from typing import Any

from staticsite.example.children import desired_children, files_checksum
from staticsite.example.resources import CHECKSUM_ANNOTATION, CONFIGMAP, DEPLOYMENT, SERVICE
from staticsite.example.spec import SiteSpec, parse_spec
from staticsite.machinery.resources import JsonObject
from tests.unit.helpers import make_site

EXPECTED_LABELS = {
    "app.kubernetes.io/name": "staticsite",
    "app.kubernetes.io/instance": "web",
    "app.kubernetes.io/managed-by": "staticsite-operator",
}


def children(spec: JsonObject | None = None) -> dict[str, JsonObject]:
    site = make_site(spec=spec)
    return {ref.kind: body for ref, body in desired_children(site, parse_spec(site["spec"]))}


def pod_spec(deployment: JsonObject) -> Any:
    return deployment["spec"]["template"]["spec"]


def test_three_children_are_named_after_the_site_in_its_namespace() -> None:
    site = make_site()

    result = desired_children(site, parse_spec(site["spec"]))

    assert [ref for ref, _ in result] == [CONFIGMAP, DEPLOYMENT, SERVICE]
    for ref, body in result:
        assert body["apiVersion"] == ref.api_version
        assert body["kind"] == ref.kind
        assert body["metadata"]["name"] == "web"
        assert body["metadata"]["namespace"] == "sites"


def test_every_child_carries_the_standard_labels() -> None:
    result = children()

    for body in result.values():
        assert body["metadata"]["labels"] == EXPECTED_LABELS


def test_every_child_is_controlled_by_the_site() -> None:
    result = children()

    for body in result.values():
        assert body["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "sites.example.com/v1alpha1",
                "kind": "StaticSite",
                "name": "web",
                "uid": "uid-web",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]


def test_configmap_holds_the_files_as_data() -> None:
    result = children({"files": {"index.html": "<h1>hi</h1>", "style.css": "h1 {}"}})

    assert result["ConfigMap"]["data"] == {"index.html": "<h1>hi</h1>", "style.css": "h1 {}"}


def test_deployment_mounts_the_files_and_a_writable_tmp() -> None:
    deployment = children()["Deployment"]

    container = pod_spec(deployment)["containers"][0]
    assert {"name": "files", "mountPath": "/usr/share/nginx/html", "readOnly": True} in container[
        "volumeMounts"
    ]
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert pod_spec(deployment)["volumes"] == [
        {"name": "files", "configMap": {"name": "web"}},
        {"name": "tmp", "emptyDir": {}},
    ]
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]


def test_deployment_runs_under_the_restricted_security_profile() -> None:
    deployment = children()["Deployment"]

    pod = pod_spec(deployment)
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 101,
        "runAsGroup": 101,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["containers"][0]["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
    }
    assert set(pod["containers"][0]["resources"]) == {"requests", "limits"}


def test_deployment_uses_the_spec_replicas_and_image_or_the_defaults() -> None:
    default = children()["Deployment"]
    custom = children({"files": {}, "replicas": 3, "image": "example/nginx:1"})["Deployment"]

    assert default["spec"]["replicas"] == 1
    assert pod_spec(default)["containers"][0]["image"] == "nginxinc/nginx-unprivileged:1.27-alpine"
    assert custom["spec"]["replicas"] == 3
    assert pod_spec(custom)["containers"][0]["image"] == "example/nginx:1"


def test_deployment_and_service_select_pods_by_the_instance_label() -> None:
    result = children()

    selector = {"app.kubernetes.io/instance": "web"}
    assert result["Deployment"]["spec"]["selector"] == {"matchLabels": selector}
    assert result["Service"]["spec"]["selector"] == selector
    template_labels = result["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= template_labels.items()


def test_service_forwards_port_80_to_the_container_port() -> None:
    service = children()["Service"]

    assert service["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}
    ]


def test_pod_template_carries_the_checksum_of_the_files() -> None:
    files = {"index.html": "<h1>hi</h1>"}

    deployment = children({"files": files})["Deployment"]

    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {CHECKSUM_ANNOTATION: files_checksum(files)}


def test_checksum_changes_with_the_content() -> None:
    before = files_checksum({"index.html": "one"})

    after = files_checksum({"index.html": "two"})

    assert before != after


def test_checksum_changes_when_a_file_is_renamed() -> None:
    before = files_checksum({"a.html": "x"})

    after = files_checksum({"b.html": "x"})

    assert before != after


def test_checksum_does_not_depend_on_the_order_of_the_files() -> None:
    one = SiteSpec(files={"a.html": "1", "b.html": "2"})
    other = SiteSpec(files={"b.html": "2", "a.html": "1"})

    assert files_checksum(one.files) == files_checksum(other.files)
