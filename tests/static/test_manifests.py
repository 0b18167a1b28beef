"""The install manifests: `kubectl apply -f manifests/ -f rbac/` on a fresh cluster, first try.

These checks read the files only. That the API server accepts them, and that the pod passes
the restricted Pod Security Standard for real, is tested against a control plane.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.static.repo import (
    MANIFESTS,
    OPERATOR_NAME,
    OPERATOR_NAMESPACE,
    RBAC,
    find,
    load_folder,
)

CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}
_QUANTITY = re.compile(r"^(\d+)(Ki|Mi|Gi|m)?$")
_FACTORS = {None: 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


@pytest.fixture(scope="module")
def documents() -> list[dict[str, Any]]:
    return load_folder(MANIFESTS)


@pytest.fixture(scope="module")
def deployment(documents: list[dict[str, Any]]) -> dict[str, Any]:
    return find(documents, "Deployment", OPERATOR_NAME)


@pytest.fixture(scope="module")
def pod(deployment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


@pytest.fixture(scope="module")
def container(pod: dict[str, Any]) -> dict[str, Any]:
    (only,) = pod["containers"]
    assert isinstance(only, dict)
    return only


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def _bytes(quantity: str) -> int:
    match = _QUANTITY.match(quantity)
    assert match, f"not a quantity: {quantity}"
    assert match.group(2) != "m", f"not a memory quantity: {quantity}"
    return int(match.group(1)) * _FACTORS[match.group(2)]


def test_files_apply_in_a_working_order() -> None:
    """kubectl applies a folder alphabetically: the namespace and the CRD come first."""
    names = [path.name for path in sorted(MANIFESTS.glob("*.yaml"))]
    kinds = [doc["kind"] for doc in load_folder(MANIFESTS)]

    assert all(re.fullmatch(r"\d\d-[a-z-]+\.yaml", name) for name in names), names
    assert kinds[:2] == ["Namespace", "CustomResourceDefinition"]
    assert not list(MANIFESTS.glob("*.yml")), "kubectl users expect .yaml; keep one extension"


def test_every_object_has_a_fixed_name_and_its_namespace(documents: list[dict[str, Any]]) -> None:
    """Fixed names make a second apply a no-op; namespaced objects go to the operator's."""
    for doc in documents + load_folder(RBAC):
        metadata = doc["metadata"]
        assert "generateName" not in metadata
        if doc["kind"] in CLUSTER_SCOPED:
            assert "namespace" not in metadata, doc["kind"]
        else:
            assert metadata["namespace"] == OPERATOR_NAMESPACE, doc["kind"]


def test_the_namespace_enforces_the_restricted_pod_security_standard(
    documents: list[dict[str, Any]],
) -> None:
    labels = find(documents, "Namespace", OPERATOR_NAMESPACE)["metadata"]["labels"]

    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert re.fullmatch(r"v1\.\d+", labels["pod-security.kubernetes.io/enforce-version"])
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"


def test_one_operator_pod_at_a_time(deployment: dict[str, Any]) -> None:
    """Without leader election, a rolling update would briefly run two operators."""
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}


def test_the_pod_runs_as_the_serviceaccount_defined_in_rbac(pod: dict[str, Any]) -> None:
    """The name must match rbac/serviceaccount.yaml, or the pod waits for a missing account."""
    account = find(load_folder(RBAC), "ServiceAccount", OPERATOR_NAME)

    assert pod["serviceAccountName"] == account["metadata"]["name"]
    assert account["metadata"]["namespace"] == OPERATOR_NAMESPACE
    assert pod.get("automountServiceAccountToken", True) is True
    assert account.get("automountServiceAccountToken", True) is True


def test_the_pod_meets_the_restricted_standard(
    pod: dict[str, Any], container: dict[str, Any]
) -> None:
    """Non-root with a numeric id, no privilege escalation, no capabilities, RuntimeDefault."""
    pod_context = pod["securityContext"]
    context = container["securityContext"]

    assert pod_context["runAsNonRoot"] is True
    assert pod_context["runAsUser"] > 0
    assert pod_context["runAsGroup"] > 0
    assert pod_context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert "privileged" not in context
    assert not {"hostNetwork", "hostPID", "hostIPC"} & set(pod)
    assert all("hostPort" not in port for port in container["ports"])
    assert all(set(volume) <= {"name", "emptyDir"} for volume in pod["volumes"])


def test_the_root_filesystem_is_read_only_with_a_writable_tmp(
    pod: dict[str, Any], container: dict[str, Any]
) -> None:
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}

    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert "emptyDir" in volumes[mounts["/tmp"]]


def test_memory_fits_the_operator_with_room_to_spare(container: dict[str, Any]) -> None:
    """kopf with kubernetes-asyncio holds about 80 MB before it watches anything."""
    resources = container["resources"]
    request = _bytes(resources["requests"]["memory"])
    limit = _bytes(resources["limits"]["memory"])

    assert 100 * 2**20 <= request <= limit
    assert limit >= 2 * 80 * 2**20
    assert {"cpu", "memory"} <= set(resources["requests"])
    assert {"cpu", "memory"} <= set(resources["limits"])


def test_ports_and_probe_agree_with_the_environment(container: dict[str, Any]) -> None:
    """The named ports are the ones the operator listens on, and liveness asks /healthz."""
    env = _env(container)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    probe = container["livenessProbe"]["httpGet"]

    assert ports["metrics"] == int(env["METRICS_PORT"])
    assert ports["health"] == int(env["HEALTH_PORT"])
    assert (probe["path"], probe["port"]) == ("/healthz", "health")
    assert "readinessProbe" not in container


def test_the_operator_watches_its_own_namespace_and_logs_json(container: dict[str, Any]) -> None:
    env = _env(container)

    assert env["WATCH_NAMESPACES"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert env["LOG_FORMAT"] == "json"
    assert env["POD_ID"] == {"fieldRef": {"fieldPath": "metadata.name"}}


def test_the_image_is_the_placeholder_that_skaffold_replaces(container: dict[str, Any]) -> None:
    """IfNotPresent lets an image loaded into a kind node run without a registry."""
    assert container["image"] == f"{OPERATOR_NAME}:latest"
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["args"] == ["run"]


def test_the_metrics_service_reaches_the_operator_pod(
    documents: list[dict[str, Any]], deployment: dict[str, Any]
) -> None:
    service = find(documents, "Service", f"{OPERATOR_NAME}-metrics")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    (port,) = service["spec"]["ports"]

    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert (port["name"], port["targetPort"]) == ("metrics", "metrics")
